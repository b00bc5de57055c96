package declarative

// Lint parses a file as Parse does and also returns warnings: things that load and run
// but are likely mistakes or weak spots (no connection test, missing descriptions, a
// short_page stop that loses records, writes without idempotency...). `hookflow
// connector lint FILE` prints both. When the file does not load, the error is the
// *LoadError of Parse and there are no warnings.
func Lint(src Source) (*Definition, []Problem, error) {
	p, problems := parse(src)
	if len(problems) > 0 {
		return nil, nil, newLoadError(src.Path, problems)
	}
	return &Definition{File: p.file, Source: src}, p.warnings, nil
}
