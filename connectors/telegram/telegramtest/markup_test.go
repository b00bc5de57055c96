package telegramtest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseEntities(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, mode, text string
		plain            string
		err              string
	}{
		{name: "plain", text: "<b> & *", plain: "<b> & *"},
		{name: "html", mode: "HTML", text: `<b>bold</b> <a href="https://x.test">link</a> &lt;3 &amp;`, plain: "bold link <3 &"},
		{name: "html nested", mode: "HTML", text: "<b><i>x</i></b>", plain: "x"},
		{name: "html upper case", mode: "HTML", text: "<B>x</B>", plain: "x"},
		{name: "html unclosed", mode: "HTML", text: "<b>x", err: `can't parse entities: Can't find end tag corresponding to start tag "b"`},
		{name: "html crossed", mode: "HTML", text: "<b><i>x</b></i>", err: "can't parse entities: Unexpected end tag at byte offset 7"},
		{name: "html stray end", mode: "HTML", text: "x</b>", err: "can't parse entities: Unexpected end tag at byte offset 1"},
		{name: "html unsupported", mode: "HTML", text: "<div>x</div>", err: `can't parse entities: Unsupported start tag "div" at byte offset 0`},
		{name: "html empty tag", mode: "HTML", text: "a <> b", err: `can't parse entities: Unsupported start tag "" at byte offset 2`},
		{name: "html unescaped lt", mode: "HTML", text: "1 < 2", err: "can't parse entities: Unclosed start tag at byte offset 2"},
		{name: "markdownv2", mode: "MarkdownV2", text: `*bold* _it_ 5\.00\! [link](https://a-b.test/x.y) ||spoiler|| ` + "`a.b`", plain: "bold it 5.00! link spoiler a.b"},
		{name: "markdownv2 quote", mode: "MarkdownV2", text: ">quoted", plain: "quoted"},
		{name: "markdownv2 reserved", mode: "MarkdownV2", text: "a-b", err: `can't parse entities: Character '-' is reserved and must be escaped with the preceding '\'`},
		{name: "markdownv2 open code", mode: "MarkdownV2", text: "`x", err: "can't parse entities: Can't find end of Code entity"},
		{name: "markdown", mode: "Markdown", text: "*bold* _it_ `c*d` 5.00!", plain: "bold it c*d 5.00!"},
		{name: "markdown unclosed", mode: "Markdown", text: "a *b", err: "can't parse entities: Can't find end of the entity starting at byte offset 2"},
		{name: "unknown mode", mode: "bbcode", text: "x", err: "unsupported parse_mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plain, err := parseEntities(tt.text, tt.mode)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.plain, plain)
		})
	}
}
