package declarative

import "github.com/hookflow/hookflow/connectors"

// sdkField turns a file's field into the SDK's, which drives validation, forms, the JSON
// Schema and the docs exactly as a Go connector's fields do.
func sdkField(f Field) connectors.Field {
	out := connectors.Field{
		Name:        f.Name,
		Type:        connectors.FieldType(f.Type),
		Title:       f.Title,
		Description: f.Description,
		Required:    f.Required,
		Default:     f.Default,
		Enum:        f.Enum,
		Secret:      f.Secret,
		Endpoint:    f.Endpoint,
		Examples:    f.Examples,
		Fields:      sdkFields(f.Fields),
	}
	if out.Type == "" {
		out.Type = connectors.TypeString
	}
	if f.Items != nil {
		items := sdkField(*f.Items)
		if items.Name == "" {
			items.Name = "item" // the SDK names every field, even a list's elements
		}
		out.Items = &items
	}
	return out
}

func sdkFields(fs []Field) []connectors.Field {
	if len(fs) == 0 {
		return nil
	}
	out := make([]connectors.Field, len(fs))
	for i, f := range fs {
		out[i] = sdkField(f)
	}
	return out
}
