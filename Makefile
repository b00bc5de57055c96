# Hookflow developer tasks. `make help` lists them.
GO ?= go
STATICCHECK_VERSION := v0.8.2
TEST_FLAGS ?= -race -count=1

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-10s %s\n", $$1, $$2}'

.PHONY: run
run: ## Run the server (SQLite in ./data)
	$(GO) run ./cmd/hookflow serve

.PHONY: test
test: ## Run every test (PostgreSQL tests skip without a local server unless CI is set)
	$(GO) test $(TEST_FLAGS) ./...

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l .)" || (echo "gofmt would change:"; gofmt -l .; exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

.PHONY: build
build: ## Build ./hookflow without cgo
	CGO_ENABLED=0 $(GO) build -o hookflow ./cmd/hookflow

.PHONY: generate
generate: ## Regenerate workflows/workflow.schema.json and docs/connectors
	$(GO) test ./workflows -run 'Fresh' -count=1 -update

.PHONY: verify
verify: ## Fail when generated files are stale
	$(GO) test ./workflows -run 'Fresh' -count=1

.PHONY: bench
bench: ## Run the Go benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

.PHONY: screenshots
screenshots: ## Retake the admin UI screenshots in docs/screenshots (needs chromium)
	HOOKFLOW_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test ./web/ui -run 'Browser' -count=1
