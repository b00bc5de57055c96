package ui

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// Connector texts: the titles, descriptions and select options of the connectors' specs
// (connectors.Spec) in the page's language.
//
// The specs are written in English and stay the one English source: an English page shows
// them as they are, and there is no English file. Another language has a flat key → text
// file, locales/connectors.<lang>.json. It is kept out of the go-i18n catalogue because
// these texts have no placeholders and no plural forms, and they often quote the workflow
// language's own {{ … }} templates, which go-i18n would try to execute.
//
// Keys follow the spec:
//
//	connector.<c>.title, connector.<c>.description
//	connector.<c>.connection.<field>.title, .description, .option.<value>
//	connector.<c>.action.<a>.title, .description; connector.<c>.action.<a>.input.<field>.…
//	connector.<c>.poller.<p>.title, .description; connector.<c>.poller.<p>.input.<field>.…
//	a field's array items: <field key>.items.…; an object's known keys: <field key>.fields.<key>.…
//
// Fields that connectors share through the connectors package (CommonConnectionFields,
// DefaultCountryField, LeadFields) are translated once, under connector._shared.<field>.…
// (no connector's name can start with "_"). A shared text stands in for a field of that
// name whose English text is the shared definition's, word for word, so a connector that
// rewords a shared field needs its own key; a connector's own key always wins.
//
// Action outputs and poll items are not translated. A text missing from a language's file
// shows in English; TestConnectorTextsAreComplete walks every registered connector and
// fails when a Russian text is missing or when a Russian key names nothing in the specs.

// sharedConnectorKey is the key prefix of the shared field texts.
const sharedConnectorKey = "connector._shared"

// connectorTexts are the connector texts by language code ("ru") and key, read from the
// embedded locales/connectors.<lang>.json. An unreadable file is a build mistake: the
// package panics when loaded, and every test fails.
var connectorTexts = mustLoadConnectorTexts(localeFS)

// isConnectorTextFile says whether a locale file holds connector texts rather than go-i18n
// messages.
func isConnectorTextFile(name string) bool {
	return strings.HasPrefix(path.Base(name), "connectors.")
}

func mustLoadConnectorTexts(fsys fs.FS) map[string]map[string]string {
	files, err := fs.Glob(fsys, "locales/connectors.*.json")
	if err != nil {
		panic(fmt.Errorf("list connector texts: %w", err))
	}
	out := map[string]map[string]string{}
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			panic(fmt.Errorf("read %s: %w", f, err))
		}
		var texts map[string]string
		if err := json.Unmarshal(raw, &texts); err != nil {
			panic(fmt.Errorf("parse %s: %w", f, err))
		}
		lang := strings.TrimSuffix(strings.TrimPrefix(path.Base(f), "connectors."), ".json")
		out[lang] = texts
	}
	return out
}

// Keys of a connector's texts; a field's texts are its key plus ".title", ".description"
// or ".option.<value>".

func connectorKey(connector string) string { return "connector." + connector }

func connectionFieldKey(connector, field string) string {
	return connectorKey(connector) + ".connection." + field
}

func actionKey(connector, action string) string {
	return connectorKey(connector) + ".action." + action
}

func actionInputKey(connector, action, field string) string {
	return actionKey(connector, action) + ".input." + field
}

func pollerKey(connector, poller string) string {
	return connectorKey(connector) + ".poller." + poller
}

func pollerInputKey(connector, poller, field string) string {
	return pollerKey(connector, poller) + ".input." + field
}

// sharedFields are the field definitions that connectors share, by name.
var sharedFields = func() map[string]connectors.Field {
	out := map[string]connectors.Field{}
	all := append(append(slices.Clone(connectors.CommonConnectionFields), connectors.DefaultCountryField),
		connectors.LeadFields(connectors.DedupeNone)...)
	for _, f := range all {
		out[f.Name] = f
	}
	return out
}()

// specText is one translatable text of a connector's spec.
type specText struct {
	// Key is the text's own key.
	Key string
	// Shared is the key of the shared text that stands in when Key has none, or "".
	Shared string
	// English is the spec's text.
	English string
}

// walkSpec calls fn with every translatable text of s, in the spec's order, and sets each
// title and description to fn's answer (option labels are not kept in a spec: fn's answer
// for them is dropped). Empty texts are skipped. It copies every slice it changes, so s
// may share them with the registered connector.
func walkSpec(s *connectors.Spec, fn func(specText) string) {
	text := func(key, english string) string {
		if english == "" {
			return ""
		}
		return fn(specText{Key: key, English: english})
	}
	s.Title = text(connectorKey(s.Name)+".title", s.Title)
	s.Description = text(connectorKey(s.Name)+".description", s.Description)
	s.Connection = walkFields(s.Connection, func(f string) string { return connectionFieldKey(s.Name, f) }, fn)
	s.Actions = slices.Clone(s.Actions)
	for i := range s.Actions {
		a := &s.Actions[i]
		a.Title = text(actionKey(s.Name, a.Name)+".title", a.Title)
		a.Description = text(actionKey(s.Name, a.Name)+".description", a.Description)
		a.Inputs = walkFields(a.Inputs, func(f string) string { return actionInputKey(s.Name, a.Name, f) }, fn)
	}
	s.Pollers = slices.Clone(s.Pollers)
	for i := range s.Pollers {
		p := &s.Pollers[i]
		p.Title = text(pollerKey(s.Name, p.Name)+".title", p.Title)
		p.Description = text(pollerKey(s.Name, p.Name)+".description", p.Description)
		p.Inputs = walkFields(p.Inputs, func(f string) string { return pollerInputKey(s.Name, p.Name, f) }, fn)
	}
}

// walkFields walks a copy of fields, each under key(its name), and returns the copy.
func walkFields(fields []connectors.Field, key func(string) string, fn func(specText) string) []connectors.Field {
	if fields == nil {
		return nil
	}
	out := slices.Clone(fields)
	for i := range out {
		walkField(&out[i], key(out[i].Name), fn)
	}
	return out
}

// walkField walks one field's texts under key, its array items and its object's keys.
func walkField(f *connectors.Field, key string, fn func(specText) string) {
	shared, isShared := sharedFields[f.Name]
	text := func(part, english, sharedEnglish string) string {
		if english == "" {
			return ""
		}
		t := specText{Key: key + "." + part, English: english}
		if isShared && english == sharedEnglish {
			t.Shared = sharedConnectorKey + "." + f.Name + "." + part
		}
		return fn(t)
	}
	f.Title = text("title", f.Title, shared.Title)
	f.Description = text("description", f.Description, shared.Description)
	for _, v := range f.Enum {
		sharedValue := ""
		if slices.Contains(shared.Enum, v) {
			sharedValue = v
		}
		text("option."+v, v, sharedValue)
	}
	if f.Items != nil {
		item := *f.Items
		walkField(&item, key+".items", fn)
		f.Items = &item
	}
	f.Fields = walkFields(f.Fields, func(n string) string { return key + ".fields." + n }, fn)
}

// connectorText is one connector text in the translator's language: its own key, else
// the shared key, else the English.
func (t *translator) connectorText(s specText) string {
	texts := connectorTexts[t.langCode()]
	if x, ok := texts[s.Key]; ok {
		return x
	}
	if x, ok := texts[s.Shared]; ok && s.Shared != "" {
		return x
	}
	return s.English
}

// localSpec returns spec with its texts in the translator's language: the connector's
// title and description, its connection fields, its actions and poll triggers and their
// inputs (titles and descriptions, nested fields included). An English page gets spec as
// it is.
func (t *translator) localSpec(spec connectors.Spec) connectors.Spec {
	if _, ok := connectorTexts[t.langCode()]; !ok {
		return spec
	}
	walkSpec(&spec, t.connectorText)
	return spec
}

// optionLabel is the label of value among the choices of field f, whose key is fieldKey
// (connectionFieldKey, actionInputKey, pollerInputKey): in English, the value itself.
func (t *translator) optionLabel(fieldKey string, f connectors.Field, value string) string {
	s := specText{Key: fieldKey + ".option." + value, English: value}
	if shared, ok := sharedFields[f.Name]; ok && slices.Contains(shared.Enum, value) {
		s.Shared = sharedConnectorKey + "." + f.Name + ".option." + value
	}
	return t.connectorText(s)
}

// connectorTitle is a connector's title in the translator's language.
func (t *translator) connectorTitle(c *connectors.Connector) string {
	return t.connectorText(specText{Key: connectorKey(c.Name) + ".title", English: c.Title})
}

// LocalSpec is spec in the page's language (translator.localSpec), for the forms drawn
// from connection and input field specs.
func (v *view) LocalSpec(spec connectors.Spec) connectors.Spec { return v.tr.localSpec(spec) }

// OptionLabel is the label of one choice of a select drawn from field f, whose key is
// fieldKey (translator.optionLabel).
func (v *view) OptionLabel(fieldKey string, f connectors.Field, value string) string {
	return v.tr.optionLabel(fieldKey, f, value)
}
