package ui

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// The UI's languages: English first, the fallback.
var languages = []language.Tag{language.English, language.Russian}

var languageMatcher = language.NewMatcher(languages)

// The message catalogue: locales/<area>.<lang>.json, one file per screen area and
// language, so each area's strings sit together. i18n_test.go fails when a key is in one
// language and not the other, or when a template or handler asks for a key that does not
// exist. locales/connectors.<lang>.json are not part of it: they translate the
// connectors' specs (connector_texts.go).
//
//go:embed locales/*.json
var localeFS embed.FS

func loadCatalogue() (*i18n.Bundle, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	files, err := fs.Glob(localeFS, "locales/*.json")
	if err != nil {
		return nil, fmt.Errorf("list locale files: %w", err)
	}
	for _, f := range files {
		if isConnectorTextFile(f) {
			continue
		}
		if _, err := b.LoadMessageFileFS(localeFS, f); err != nil {
			return nil, fmt.Errorf("load %s: %w", f, err)
		}
	}
	return b, nil
}

// pickLanguage chooses the UI language: the user's setting, else the browser's
// Accept-Language, else English.
func pickLanguage(setting string, r *http.Request) language.Tag {
	if setting != "" {
		if t, err := language.Parse(setting); err == nil {
			_, i, conf := languageMatcher.Match(t)
			if conf != language.No {
				return languages[i]
			}
		}
	}
	prefs, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(prefs) == 0 {
		return language.English
	}
	_, i, conf := languageMatcher.Match(prefs...)
	if conf == language.No {
		return language.English
	}
	return languages[i]
}

// translator renders catalogue messages in one language.
type translator struct {
	loc  *i18n.Localizer
	lang language.Tag
}

func newTranslator(b *i18n.Bundle, lang language.Tag) *translator {
	return &translator{loc: i18n.NewLocalizer(b, lang.String()), lang: lang}
}

// message renders id with the given name/value pairs; count, when not nil, picks the
// plural form (Russian has one, few and many) and is also given as .Count. A missing
// key shows as the key itself: tests keep the catalogue complete.
func (t *translator) message(id string, count any, pairs []any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if k, ok := pairs[i].(string); ok {
			data[k] = pairs[i+1]
		}
	}
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: data}
	if count != nil {
		data["Count"] = count
		cfg.PluralCount = count
	}
	s, err := t.loc.Localize(cfg)
	if err != nil || s == "" {
		return id
	}
	return s
}

// langCode is the UI language as the <html lang> attribute wants it.
func (t *translator) langCode() string {
	base, _ := t.lang.Base()
	return strings.ToLower(base.String())
}

// builtKeys are catalogue keys that pages build at run time ("role." + a role), listed so
// the catalogue test checks them too. Area files add theirs from init.
var builtKeys = map[string]bool{"role.admin": true, "role.editor": true, "role.viewer": true}

// addBuiltKeys lists keys built as prefix + each name.
func addBuiltKeys(prefix string, names ...string) {
	for _, n := range names {
		builtKeys[prefix+n] = true
	}
}
