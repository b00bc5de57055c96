package templates

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// TestLoadRefuses checks that a broken template file stops the load with a reason, so
// the tests catch it before it ships.
func TestLoadRefuses(t *testing.T) {
	t.Parallel()
	const good = `{"id": "x", "order": 1, "name": {"en": "X", "ru": "Х"}, "description": {"en": "D", "ru": "Д"},
	  "category": "c", "connections": [{"role": "bot", "connector": "telegram", "label": {"en": "Bot", "ru": "Бот"}}],
	  "fields": [{"key": "chat_id", "type": "chat_id", "required": true, "label": {"en": "Chat", "ru": "Чат"}}],
	  "workflow": {"name": "X", "trigger": {"type": "manual"}, "steps": [{"id": "s", "uses": "telegram.send_message",
	    "connection": "$connection:bot", "with": {"chat_id": "$param:chat_id", "text": "hi"}}]}}`
	ts, err := load(fstest.MapFS{"data/x.json": {Data: []byte(good)}})
	require.NoError(t, err)
	require.Len(t, ts, 1)

	for want, edit := range map[string][2]string{
		"unknown field":                     {`"category": "c"`, `"category": "c", "colour": "red"`},
		"differs from the file name":        {`"id": "x"`, `"id": "y"`},
		"name needs en and ru":              {`"ru": "Х"`, `"de": "X"`},
		"a known type":                      {`"type": "chat_id"`, `"type": "colour"`},
		"an optional field needs a default": {`"required": true, `, ``},
		"default: \"zero\" is neither":      {`"required": true, `, `"default": "zero", `},
		"field placeholders [chat chat_id]": {`"text": "hi"`, `"text": "$param:chat"`},
		"connection placeholders []":        {`"$connection:bot"`, `"bot"`},
		"category is required":              {`"category": "c"`, `"category": ""`},
	} {
		bad := strings.Replace(good, edit[0], edit[1], 1)
		require.NotEqual(t, good, bad, want)
		_, err := load(fstest.MapFS{"data/x.json": {Data: []byte(bad)}})
		require.ErrorContains(t, err, want)
	}
}
