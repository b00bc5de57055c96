package ui

// Exports for the external tests.

// BuiltKeys returns the catalogue keys that pages build at run time.
func BuiltKeys() []string {
	out := make([]string, 0, len(builtKeys))
	for k := range builtKeys {
		out = append(out, k)
	}
	return out
}
