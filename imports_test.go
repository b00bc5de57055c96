package hookflow_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/hookflow/hookflow"

// TestImportDirections enforces the package layout's import rules (docs/architecture.md)
// on every package's direct imports, so the layering cannot erode one import at a time.
func TestImportDirections(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}`, "./...").CombinedOutput()
	require.NoError(t, err, string(out))
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imports, _ := strings.Cut(line, "|")
		pkgs[strings.TrimPrefix(strings.TrimPrefix(path, module), "/")] = strings.Fields(imports)
	}
	require.Contains(t, pkgs, "engine")
	require.Contains(t, pkgs, "web")

	var problems []string
	for pkg, imports := range pkgs {
		for _, imp := range imports {
			if why := forbidden(pkg, imp); why != "" {
				problems = append(problems, pkg+" imports "+imp+": "+why)
			}
		}
	}
	require.Empty(t, problems)
}

// isTestSupport reports packages that exist only to help tests (storetest, webtest, ...).
func isTestSupport(pkg string) bool {
	last := pkg[strings.LastIndex(pkg, "/")+1:]
	return strings.HasSuffix(last, "test")
}

func under(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

// forbidden returns why pkg may not import imp, or "".
func forbidden(pkg, imp string) string {
	internal := strings.HasPrefix(imp, module)
	rel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
	if internal && isTestSupport(rel) && !isTestSupport(pkg) {
		return "only tests may use test-support packages"
	}
	if isTestSupport(pkg) || pkg == "" {
		return ""
	}
	isGorm := strings.HasPrefix(imp, "gorm.io/")
	isGin := strings.HasPrefix(imp, "github.com/gin-gonic/")
	// The declarative runtime (and its test kit) is connector infrastructure like
	// httpclient, not a concrete connector: the engine loads connector files through it.
	runtime := rel == "connectors" || rel == "connectors/httpclient" || under(rel, "connectors/declarative")
	concreteConnector := internal && under(rel, "connectors") && !runtime
	switch {
	case isGorm && pkg != "engine/store":
		return "only engine/store talks to the database"
	case pkg == "cmd/hookflow":
		if internal && rel != "cmd/cli" && rel != "connectors/all" {
			return "main only wires cmd/cli and connectors/all"
		}
	case under(pkg, "cmd/cli"):
		if internal && (under(rel, "engine/store") || under(rel, "engine/queue") || under(rel, "engine/runner") || concreteConnector) {
			return "the CLI goes through the engine's service API"
		}
	case under(pkg, "web"):
		if internal && under(rel, "engine") && rel != "engine" && !under(rel, "engine/workflow") {
			return "web may use only the engine root and engine/workflow (the language's types and pure helpers)"
		}
		if concreteConnector {
			return "web reads connector specs through the registry"
		}
	case pkg == "engine":
		if isGin || (internal && (under(rel, "web") || concreteConnector)) {
			return "the engine knows no HTTP framework and no concrete connector"
		}
	case under(pkg, "engine"):
		if internal && (rel == "engine" || under(rel, "web") || under(rel, "cmd") || concreteConnector) {
			return "engine packages import neither the engine root, web, cmd nor concrete connectors"
		}
		if isGin {
			return "the engine knows no HTTP framework"
		}
		if internal && rel == "migrations" && pkg != "engine/store" {
			return "only engine/store applies migrations"
		}
		leaves := map[string][]string{"engine/expr": nil, "engine/secrets": nil, "engine/workflow": {"connectors", "engine/expr"}}
		if allowed, leaf := leaves[pkg]; leaf && internal {
			for _, a := range allowed {
				if rel == a {
					return ""
				}
			}
			return pkg + " is a leaf"
		}
	case pkg == "connectors":
		if internal {
			return "the SDK depends on nothing in this module"
		}
	case pkg == "connectors/all":
		// Blank-imports the built-in connectors.
	case under(pkg, "connectors/declarative"):
		// Templates of connector files are the workflow language, so the runtime uses
		// engine/expr, a leaf; nothing else of the engine.
		if internal && !runtime && rel != "engine/expr" {
			return "the declarative runtime imports only the SDK, httpclient, itself and engine/expr"
		}
	case under(pkg, "connectors"):
		if internal && rel != "connectors" && rel != "connectors/httpclient" && rel != "connectors/declarative" {
			return "a connector imports only the SDK, httpclient and the declarative runtime"
		}
	}
	return ""
}

// TestForbiddenRules checks the rule table itself, so a typo cannot make it allow
// everything.
func TestForbiddenRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pkg, imp string
		bad      bool
	}{
		{"web/api", module + "/engine/store", true},
		{"web/api", "gorm.io/gorm", true},
		{"web/api", module + "/engine", false},
		{"web/api", module + "/engine/workflow", false},
		{"engine/runner", module + "/engine", true},
		{"engine/runner", module + "/connectors/http", true},
		{"engine/runner", "github.com/gin-gonic/gin", true},
		{"engine/runner", module + "/engine/store", false},
		{"engine/expr", module + "/connectors", true},
		{"engine/workflow", module + "/engine/expr", false},
		{"connectors", module + "/engine", true},
		{"connectors/http", module + "/engine/workflow", true},
		{"connectors/http", module + "/connectors/httpclient", false},
		{"cmd/hookflow", module + "/engine", true},
		{"cmd/cli", module + "/engine/store", true},
		{"engine", module + "/engine/store/storetest", true},
		{"web/webtest", module + "/engine/store", false},
		{"engine", module + "/connectors/declarative", false},
		{"cmd/cli", module + "/connectors/declarative/kit", false},
		{"connectors/declarative", module + "/engine/expr", false},
		{"connectors/declarative", module + "/engine/store", true},
		{"connectors/declarative/kit", module + "/engine", true},
		{"connectors/builtin", module + "/connectors/declarative", false},
		{"connectors/builtin", module + "/engine/expr", true},
		{"connectors/http", module + "/connectors/telegram", true},
	} {
		require.Equal(t, tc.bad, forbidden(tc.pkg, tc.imp) != "", "%s -> %s", tc.pkg, tc.imp)
	}
}
