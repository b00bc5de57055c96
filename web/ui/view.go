package ui

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// view is what every page template gets as its dot: the signed-in user, the form token,
// the language and time zone, and the page's own Data. Templates call its methods:
// {{.T "nav.runs"}}, {{.N "runs.count" 5}}, {{.Time .Run.CreatedAt}}; inside a range,
// through $ ({{$.T "…"}}).
type view struct {
	// User is nil on the sign-in page.
	User *engine.User
	// CSRF must come back in every posted form (field csrf_token) or htmx request (the
	// X-CSRF-Token header, set once on <body>).
	CSRF string
	// Nav names the menu entry to highlight: "dashboard", "workflows", "runs",
	// "connections", "settings".
	Nav string
	// Flash is a one-line message after a redirect (already translated).
	Flash string
	// Data is the page's own data.
	Data any

	tr  *translator
	loc *time.Location
}

// T translates a catalogue key; pairs are name/value pairs for its placeholders.
func (v *view) T(id string, pairs ...any) string { return v.tr.message(id, nil, pairs) }

// N translates a key with a plural form for n, given to the message as .Count.
func (v *view) N(id string, n any, pairs ...any) string { return v.tr.message(id, n, pairs) }

// Lang is the page's language code ("en", "ru").
func (v *view) Lang() string { return v.tr.langCode() }

// Zone is the name of the time zone the page's times are shown in.
func (v *view) Zone() string { return v.loc.String() }

// Can says whether the user's role is at least role ("viewer", "editor", "admin").
// Templates use it to hide controls; the engine refuses the action all the same.
func (v *view) Can(role string) bool {
	return v.User != nil && roleRank(v.User.Role) >= roleRank(role)
}

func roleRank(role string) int {
	switch role {
	case engine.RoleAdmin:
		return 3
	case engine.RoleEditor:
		return 2
	case engine.RoleViewer:
		return 1
	}
	return 0
}

// Time formats t in the user's time zone; a zero time is "—". It takes a time.Time or
// a *time.Time.
func (v *view) Time(t any) string {
	var tt time.Time
	switch x := t.(type) {
	case time.Time:
		tt = x
	case *time.Time:
		if x != nil {
			tt = *x
		}
	}
	if tt.IsZero() {
		return "—"
	}
	return tt.In(v.loc).Format("2006-01-02 15:04:05")
}

// Ago says how long before now t was, roughly: "just now", "5 minutes ago", "3 hours
// ago", "2 days ago"; a zero time is "—".
func (v *view) Ago(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return v.T("time.just_now")
	case d < time.Hour:
		return v.N("time.minutes_ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return v.N("time.hours_ago", int(d.Hours()))
	}
	return v.N("time.days_ago", int(d.Hours()/24))
}

// ISO is t for a <time datetime> attribute.
func (v *view) ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Duration formats d briefly: "850 ms", "12.3 s", "4 min 5 s".
func (v *view) Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return v.T("unit.ms", "N", d.Milliseconds())
	case d < time.Minute:
		return v.T("unit.s", "N", strconv.FormatFloat(math.Round(d.Seconds()*10)/10, 'f', -1, 64))
	case d < time.Hour:
		return v.T("unit.min_s", "M", int(d.Minutes()), "S", int(d.Seconds())%60)
	}
	return v.T("unit.h_min", "H", int(d.Hours()), "M", int(d.Minutes())%60)
}

// Bytes formats a size: "512 B", "3.4 KB", "1.2 MB".
func (v *view) Bytes(n int) string {
	switch {
	case n < 1024:
		return v.T("unit.bytes", "N", n)
	case n < 1024*1024:
		return v.T("unit.kb", "N", strconv.FormatFloat(math.Round(float64(n)/102.4)/10, 'f', -1, 64))
	}
	return v.T("unit.mb", "N", strconv.FormatFloat(math.Round(float64(n)/(1024*102.4))/10, 'f', -1, 64))
}

// PrettyJSON indents a JSON document (raw bytes, a string or any value) for a <pre>;
// a body that is not JSON is shown as it is.
func (v *view) PrettyJSON(x any) string {
	var raw []byte
	switch b := x.(type) {
	case []byte:
		raw = b
	case json.RawMessage:
		raw = b
	case string:
		raw = []byte(b)
	default:
		out, err := json.MarshalIndent(x, "", "  ")
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(out)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return string(raw)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return string(raw)
	}
	return string(out)
}

// templateFuncs are the functions every template has besides the view's methods.
func (h *Handler) templateFuncs() template.FuncMap {
	return template.FuncMap{
		"asset": h.assets.path,
		// dict builds a map for passing several values to a sub-template.
		"dict": func(pairs ...any) (map[string]any, error) {
			if len(pairs)%2 != 0 {
				return nil, fmt.Errorf("dict needs name/value pairs")
			}
			m := make(map[string]any, len(pairs)/2)
			for i := 0; i < len(pairs); i += 2 {
				k, ok := pairs[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict key %v is not a string", pairs[i])
				}
				m[k] = pairs[i+1]
			}
			return m, nil
		},
	}
}
