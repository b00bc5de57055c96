package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// sortedKeys returns m's keys in order, so encoded forms and queries are reproducible.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// encodeQuery encodes query parameters: a scalar gives one parameter, a list repeats the
// parameter once per element (tag=a&tag=b), null is left out.
func encodeQuery(q map[string]any) (string, error) {
	var pairs []string
	for _, k := range sortedKeys(q) {
		switch v := q[k].(type) {
		case nil:
		case []any:
			for i, e := range v {
				s, ok := connectors.ScalarText(e)
				if !ok {
					return "", fmt.Errorf("query parameter %q element %d: expected a string, number or boolean, got %s", k, i, connectors.JSONTypeOf(e))
				}
				pairs = append(pairs, url.QueryEscape(k)+"="+url.QueryEscape(s))
			}
		default:
			s, ok := connectors.ScalarText(v)
			if !ok {
				return "", fmt.Errorf("query parameter %q: expected a string, number, boolean or a list of them, got %s", k, connectors.JSONTypeOf(v))
			}
			pairs = append(pairs, url.QueryEscape(k)+"="+url.QueryEscape(s))
		}
	}
	return strings.Join(pairs, "&"), nil
}

// encodeForm encodes an object as application/x-www-form-urlencoded. Nested objects and
// lists use the bracket keys PHP and Rails parse back into structures
// (contact[phones][0]=x), which is what amoCRM, Bitrix24 and most form endpoints expect.
// Keys are sorted; nulls and empty objects or lists are left out, as PHP's
// http_build_query does; booleans are written "true" and "false".
func encodeForm(obj map[string]any) (string, error) {
	var pairs []string
	for _, k := range sortedKeys(obj) {
		if err := appendForm(&pairs, k, obj[k]); err != nil {
			return "", err
		}
	}
	return strings.Join(pairs, "&"), nil
}

func appendForm(pairs *[]string, name string, v any) error {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if err := appendForm(pairs, name+"["+k+"]", x[k]); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := appendForm(pairs, name+"["+strconv.Itoa(i)+"]", e); err != nil {
				return err
			}
		}
	default:
		s, ok := connectors.ScalarText(x)
		if !ok {
			return fmt.Errorf("form field %q: unsupported value of type %s", name, connectors.JSONTypeOf(x))
		}
		*pairs = append(*pairs, url.QueryEscape(name)+"="+url.QueryEscape(s))
	}
	return nil
}

// encodeJSON marshals v without HTML escaping, so the bytes sent are the ones a user
// would write (some receivers sign or compare the raw body).
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// redactValue replaces secrets in every string (and object key) of a decoded value.
func redactValue(v any, redact func(string) string) any {
	switch x := v.(type) {
	case string:
		return redact(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[redact(k)] = redactValue(e, redact)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e, redact)
		}
		return out
	}
	return v
}
