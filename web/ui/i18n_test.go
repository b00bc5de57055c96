package ui_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/web/ui"
)

// catalogue reads locales/*.<lang>.json into key → message (a string, or a map of
// plural forms). The connector texts (locales/connectors.*.json) are left out: they have
// no English file, and TestConnectorTextsAreComplete checks them against the registry.
func catalogue(t *testing.T, lang string) map[string]any {
	t.Helper()
	files, err := filepath.Glob("locales/*." + lang + ".json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string]any{}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "connectors.") {
			continue
		}
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m), f)
		for k, v := range m {
			_, dup := out[k]
			require.False(t, dup, "%s: key %s is defined twice", f, k)
			out[k] = v
		}
	}
	return out
}

// TestCatalogueIsComplete fails when a key is in one language and not the other, when a
// Russian plural lacks one of its forms, or when a template or handler asks for a key
// the catalogue does not have.
func TestCatalogueIsComplete(t *testing.T) {
	t.Parallel()
	en, ru := catalogue(t, "en"), catalogue(t, "ru")
	for k, v := range en {
		r, ok := ru[k]
		require.True(t, ok, "%q is in English but not in Russian", k)
		if plural, ok := v.(map[string]any); ok {
			require.Contains(t, plural, "one", k)
			require.Contains(t, plural, "other", k)
			rp, ok := r.(map[string]any)
			require.True(t, ok, "%q is a plural in English but not in Russian", k)
			for _, form := range []string{"one", "few", "many", "other"} {
				require.Contains(t, rp, form, "%q: Russian needs the %q form", k, form)
			}
		}
	}
	for k := range ru {
		require.Contains(t, en, k, "%q is in Russian but not in English", k)
	}

	used := map[string]string{}
	tmplKey := regexp.MustCompile(`\.(?:T|N) "([^"]+)"`)
	goKey := regexp.MustCompile(`\.(?:T|N)\("([^"]+)"[,)]`)
	require.NoError(t, fs.WalkDir(os.DirFS("."), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		var re *regexp.Regexp
		switch {
		case strings.HasSuffix(p, ".html"):
			re = tmplKey
		case strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go"):
			re = goKey
		default:
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
			used[m[1]] = p
		}
		return nil
	}))
	for _, k := range ui.BuiltKeys() {
		used[k] = "built at run time"
	}
	require.Greater(t, len(used), 20, "the scan found too few keys: has the template syntax changed?")
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		require.Contains(t, en, k, "%s asks for %q, which the catalogue lacks", used[k], k)
	}
}
