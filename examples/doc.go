// Package examples holds the worked examples of docs/integrators.md, which CI builds and
// tests: acme/acme.yaml, a declarative connector for a made-up service "acme" with its
// recorded fixtures in acme/acme/, and acmego, the same connector as a Go package.
// examples_test.go replays the fixtures, runs the conformance suite on the file, and
// fails when the code blocks of docs/integrators.md differ from these files.
package examples
