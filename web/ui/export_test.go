package ui

import (
	"golang.org/x/text/language"

	"github.com/hookflow/hookflow/connectors"
)

// Exports for the external tests.

// BuiltKeys returns the catalogue keys that pages build at run time.
func BuiltKeys() []string {
	out := make([]string, 0, len(builtKeys))
	for k := range builtKeys {
		out = append(out, k)
	}
	return out
}

// ConnectorText is one translatable text of a connector's spec.
type ConnectorText = specText

// ConnectorTexts lists the translatable texts of spec, in its order.
func ConnectorTexts(spec connectors.Spec) []ConnectorText {
	var out []ConnectorText
	walkSpec(&spec, func(t specText) string { out = append(out, t); return t.English })
	return out
}

// ConnectorTextFile returns the connector texts of a language ("ru"), nil for English.
func ConnectorTextFile(lang string) map[string]string { return connectorTexts[lang] }

// LocalSpec returns spec in a language ("en", "ru").
func LocalSpec(lang string, spec connectors.Spec) connectors.Spec {
	return (&translator{lang: language.Make(lang)}).localSpec(spec)
}

// OptionLabel is the label of one choice of an action input in a language.
func OptionLabel(lang, connector, action string, f connectors.Field, value string) string {
	return (&translator{lang: language.Make(lang)}).optionLabel(actionInputKey(connector, action, f.Name), f, value)
}
