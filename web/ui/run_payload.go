package ui

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Pages show stored documents (step inputs and outputs, request bodies and headers,
// errors) cut to fit: each at most payloadShowMax of page, and all of a page's together
// within the page's budget, so a page stays well under 100 KB however large its runs'
// data. The whole document stays available through the API.
const (
	// payloadShowMax is the most one document may take of a page, in bytes of HTML.
	payloadShowMax = 16 << 10
	// payloadPrettyMax is the largest document pretty-printed; a larger one is shown as
	// stored, since only its start fits anyway.
	payloadPrettyMax = 64 << 10
	// payloadOpenMax is the largest document shown unfolded.
	payloadOpenMax = 2 << 10
	// payloadMinShow is the least worth showing: below it the budget is spent, and the
	// document is only named with its size.
	payloadMinShow = 256
)

// payload is a document prepared for a page.
type payload struct {
	// Size is the document's size as stored, in bytes.
	Size int
	// Text is what is shown: all of it pretty-printed, or its start.
	Text string
	// Cut says Text is only the start; Hidden that nothing of it fitted.
	Cut, Hidden bool
	// StoredSize is set when the engine stored only the start of a larger value (over
	// the workflow's step_data limit): the value's whole size.
	StoredSize int
	// Open says the document is small enough to show unfolded.
	Open bool
}

// budget is what is left of a page's room for documents, in bytes of HTML.
type budget struct{ left int }

func newBudget(n int) *budget { return &budget{left: n} }

// storedCut is how the engine stores a value over step_data:
// {"$truncated":true,"size":N,"preview":"<start of its JSON>"}.
type storedCut struct {
	Truncated bool   `json:"$truncated"`
	Size      int64  `json:"size"`
	Preview   string `json:"preview"`
}

const storedCutPrefix = `{"$truncated":true,"size":`

// json prepares a JSON document: pretty-printed when it is small enough, cut to what
// the budget allows. Nil when there is no document.
func (b *budget) json(raw []byte) *payload {
	if len(raw) == 0 {
		return nil
	}
	p := &payload{Size: len(raw)}
	text := ""
	if bytes.HasPrefix(raw, []byte(storedCutPrefix)) {
		var sc storedCut
		if err := json.Unmarshal(raw, &sc); err == nil && sc.Truncated {
			p.StoredSize, text = int(sc.Size), sc.Preview
		}
	}
	switch {
	case p.StoredSize > 0:
	case len(raw) <= payloadPrettyMax:
		var out bytes.Buffer
		if err := json.Indent(&out, raw, "", "  "); err == nil {
			text = out.String()
		} else {
			text = string(raw)
		}
	default:
		text = string(raw[:min(len(raw), 2*payloadShowMax)])
		p.Cut = true
	}
	b.fill(p, text)
	return p
}

// value prepares a value that is not stored as JSON yet (a test run's input or output).
func (b *budget) value(v any) *payload {
	if v == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return b.text(err.Error())
	}
	return b.json(raw)
}

// text prepares plain text (an error, a list of headers, a body that is not JSON).
func (b *budget) text(s string) *payload {
	if s == "" {
		return nil
	}
	p := &payload{Size: len(s)}
	b.fill(p, s)
	return p
}

// fill sets p's shown text: as much of text as fits in the document's share of the
// budget, counted as html/template will escape it.
func (b *budget) fill(p *payload, text string) {
	room := min(payloadShowMax, b.left)
	if room < payloadMinShow {
		p.Hidden, p.Cut = true, true
		return
	}
	shown, cost := clipEscaped(text, room)
	if len(shown) < len(text) {
		p.Cut = true
	}
	p.Text = shown
	b.left -= cost
	p.Open = !p.Cut && p.StoredSize == 0 && p.Size <= payloadOpenMax
}

// clipEscaped returns the longest start of s, cut between characters, whose escaped
// HTML takes at most room bytes, and that size.
func clipEscaped(s string, room int) (string, int) {
	cost := 0
	for i, r := range s {
		n := utf8.RuneLen(r)
		switch r {
		case '"', '\'', '&', '+':
			n = 5 // &#34; &#39; &amp; &#43;
		case '<', '>':
			n = 4
		case utf8.RuneError:
			n = 3
		}
		if cost+n > room {
			return strings.ToValidUTF8(s[:i], ""), cost
		}
		cost += n
	}
	return s, cost
}
