package telegramtest

import (
	"errors"
	"fmt"
	"html"
	"strings"
)

// htmlTags are the tags Telegram's HTML parse mode supports.
var htmlTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true, "strike": true,
	"del": true, "span": true, "tg-spoiler": true, "a": true, "code": true, "pre": true,
	"blockquote": true, "tg-emoji": true,
}

// markdownV2Reserved are characters MarkdownV2 reserves for markup even where they mark
// up nothing, so plain uses must be escaped with a backslash.
const markdownV2Reserved = ".!-=+#{}>|"

// parseEntities checks text against its parse mode and returns it without the markup.
// It is a simplified stand-in for Telegram's parser: it catches what tests need (broken
// or unsupported HTML tags, unescaped MarkdownV2 characters, unclosed Markdown entities)
// and its error messages start like Telegram's.
func parseEntities(text, parseMode string) (string, error) {
	var (
		plain string
		err   error
	)
	switch parseMode {
	case "":
		return text, nil
	case "HTML":
		plain, err = parseHTML(text)
	case "MarkdownV2":
		plain, err = parseMarkdownV2(text)
	case "Markdown":
		plain, err = parseMarkdown(text)
	default:
		return "", errors.New("unsupported parse_mode")
	}
	if err != nil {
		return "", fmt.Errorf("can't parse entities: %w", err)
	}
	return plain, nil
}

func parseHTML(text string) (string, error) {
	var b strings.Builder
	var open []string
	for i := 0; i < len(text); {
		c := text[i]
		if c != '<' {
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(text[i:], '>')
		if end < 0 {
			return "", entityf("Unclosed start tag at byte offset %d", i)
		}
		tag := text[i+1 : i+end]
		if name, closing := strings.CutPrefix(tag, "/"); closing {
			name = strings.ToLower(strings.TrimSpace(name))
			if len(open) == 0 || open[len(open)-1] != name {
				return "", entityf("Unexpected end tag at byte offset %d", i)
			}
			open = open[:len(open)-1]
		} else {
			name := ""
			if fields := strings.Fields(tag); len(fields) > 0 {
				name = strings.ToLower(fields[0])
			}
			if !htmlTags[name] {
				return "", entityf("Unsupported start tag \"%s\" at byte offset %d", name, i)
			}
			open = append(open, name)
		}
		i += end + 1
	}
	if len(open) > 0 {
		return "", entityf("Can't find end tag corresponding to start tag \"%s\"", open[len(open)-1])
	}
	return html.UnescapeString(b.String()), nil
}

func parseMarkdownV2(text string) (string, error) {
	var b strings.Builder
	inCode, inLinkURL := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\\':
			if i+1 < len(text) {
				i++
				b.WriteByte(text[i])
			}
		case c == '`':
			inCode = !inCode
		case inCode:
			b.WriteByte(c)
		case inLinkURL:
			inLinkURL = c != ')'
		case c == '(' && i > 0 && text[i-1] == ']':
			inLinkURL = true
		case c == '|' && i+1 < len(text) && text[i+1] == '|':
			i++ // spoiler markup
		case c == '>' && (i == 0 || text[i-1] == '\n'):
			// block quotation markup
		case strings.IndexByte(markdownV2Reserved, c) >= 0:
			return "", entityf("Character '%c' is reserved and must be escaped with the preceding '\\'", c)
		case strings.IndexByte("*_~[]", c) >= 0:
			// markup, dropped from the plain text
		default:
			b.WriteByte(c)
		}
	}
	if inCode {
		return "", entityError("Can't find end of Code entity")
	}
	return b.String(), nil
}

func parseMarkdown(text string) (string, error) {
	var b strings.Builder
	var open byte
	openAt := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case open == '`' && c != '`':
			b.WriteByte(c)
		case c == '*' || c == '_' || c == '`':
			switch open {
			case 0:
				open, openAt = c, i
			case c:
				open = 0
			default:
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	if open != 0 {
		return "", entityf("Can't find end of the entity starting at byte offset %d", openAt)
	}
	return b.String(), nil
}

// entityError is a parse error, worded like Telegram's (which start with a capital).
type entityError string

func (e entityError) Error() string { return string(e) }

func entityf(format string, args ...any) error { return entityError(fmt.Sprintf(format, args...)) }
