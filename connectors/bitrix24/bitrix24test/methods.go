package bitrix24test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// methods are the REST methods the fake knows, by lower-cased name. They run with the
// server's lock held.
var methods = map[string]func(s *Server, p map[string]any) (answer, *apiError){
	"profile":                   (*Server).profile,
	"crm.lead.add":              func(s *Server, p map[string]any) (answer, *apiError) { return s.addEntity("lead", p) },
	"crm.contact.add":           func(s *Server, p map[string]any) (answer, *apiError) { return s.addEntity("contact", p) },
	"crm.lead.list":             func(s *Server, p map[string]any) (answer, *apiError) { return s.listEntity("lead", p) },
	"crm.contact.list":          func(s *Server, p map[string]any) (answer, *apiError) { return s.listEntity("contact", p) },
	"crm.duplicate.findbycomm":  (*Server).findByComm,
	"crm.timeline.comment.add":  (*Server).addComment,
	"crm.timeline.comment.list": (*Server).listComments,
}

// multiFields are the fields Bitrix24 keeps as lists of {VALUE, VALUE_TYPE}; list
// methods return them only when selected by name.
var multiFields = []string{"PHONE", "EMAIL", "WEB", "IM"}

func isMulti(name string) bool {
	for _, m := range multiFields {
		if m == name {
			return true
		}
	}
	return false
}

func (s *Server) profile(map[string]any) (answer, *apiError) {
	return answer{Result: map[string]any{"ID": s.opts.UserID, "ADMIN": true, "NAME": "Hookflow", "LAST_NAME": "Robot",
		"PERSONAL_GENDER": "", "TIME_ZONE": ""}}, nil
}

// addEntity is crm.lead.add and crm.contact.add.
func (s *Server) addEntity(entity string, p map[string]any) (answer, *apiError) {
	fields, ok := p["fields"].(map[string]any)
	if !ok {
		// The wording is not confirmed against the real portal.
		return answer{}, errorf(http.StatusBadRequest, "", "Parameter 'fields' must be array.")
	}
	stored := map[string]any{}
	for k, v := range fields {
		k = strings.ToUpper(k)
		if isMulti(k) {
			list, err := multiField(k, v, s.nextID["multi"])
			if err != nil {
				return answer{}, err
			}
			s.nextID["multi"] += int64(len(list))
			stored[k] = list
			continue
		}
		stored[k] = scalar(v)
	}
	if entity == "lead" {
		stored["HAS_PHONE"], stored["HAS_EMAIL"] = yn(stored["PHONE"] != nil), yn(stored["EMAIL"] != nil)
		if stored["STATUS_ID"] == nil {
			stored["STATUS_ID"] = "NEW"
		}
		if stored["TITLE"] == nil {
			stored["TITLE"] = "Lead #" + strconv.FormatInt(s.nextID[entity]+1, 10)
		}
	}
	return answer{Result: s.addLocked(entity, stored)}, nil
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// scalar stores numbers as Bitrix24 returns them, as strings.
func scalar(v any) any {
	switch x := v.(type) {
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return yn(x)
	}
	return v
}

// multiField reads a PHONE or EMAIL value: a list of {VALUE, VALUE_TYPE}.
func multiField(name string, v any, lastID int64) ([]any, *apiError) {
	list, ok := v.([]any)
	if !ok {
		return nil, errorf(http.StatusBadRequest, "", "%s must be a list of {VALUE, VALUE_TYPE}", name)
	}
	out := make([]any, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, errorf(http.StatusBadRequest, "", "%s must be a list of {VALUE, VALUE_TYPE}", name)
		}
		value, _ := m["VALUE"].(string)
		typ, _ := m["VALUE_TYPE"].(string)
		if typ == "" {
			typ = "WORK"
		}
		lastID++
		out = append(out, map[string]any{"ID": strconv.FormatInt(lastID, 10), "VALUE_TYPE": typ, "VALUE": value, "TYPE_ID": name})
	}
	return out, nil
}

// listEntity is crm.lead.list and crm.contact.list.
func (s *Server) listEntity(entity string, p map[string]any) (answer, *apiError) {
	filter, _ := p["filter"].(map[string]any)
	var matched []Record
	for _, r := range s.records[entity] {
		if matches(r, filter) {
			matched = append(matched, r)
		}
	}
	orderBy(matched, p["order"])
	start, err := startParam(p["start"])
	if err != nil {
		return answer{}, err
	}
	count := start >= 0
	if start < 0 {
		start = 0
	}
	total := len(matched)
	end := min(start+PageSize, total)
	page := []any{}
	sel := selectionOf(p["select"])
	for _, r := range matched[min(start, total):end] {
		page = append(page, sel.apply(r))
	}
	a := answer{Result: page}
	if count {
		a.Total = &total
		if end < total {
			a.Next = &end
		}
	}
	return a, nil
}

func startParam(v any) (int, *apiError) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		n, err := x.Int64()
		if err == nil {
			return int(n), nil
		}
	case string:
		n, err := strconv.Atoi(x)
		if err == nil {
			return n, nil
		}
	}
	return 0, errorf(http.StatusBadRequest, "", "start must be an integer")
}

// matches applies a list filter: keys with an operator prefix (>=, <=, >, <, !, =) or
// none for equality; a list value is an IN.
func matches(r Record, filter map[string]any) bool {
	for key, want := range filter {
		op, field := "", key
		for _, o := range []string{">=", "<=", "!=", ">", "<", "!", "="} {
			if strings.HasPrefix(key, o) {
				op, field = o, key[len(o):]
				break
			}
		}
		got := fmt.Sprint(r[strings.ToUpper(field)])
		if r[strings.ToUpper(field)] == nil {
			got = ""
		}
		if list, ok := want.([]any); ok {
			in := false
			for _, w := range list {
				in = in || compare(got, fmt.Sprint(w)) == 0
			}
			if in == (op == "!" || op == "!=") {
				return false
			}
			continue
		}
		c := compare(got, fmt.Sprint(want))
		ok := false
		switch op {
		case "", "=":
			ok = c == 0
		case "!", "!=":
			ok = c != 0
		case ">":
			ok = c > 0
		case ">=":
			ok = c >= 0
		case "<":
			ok = c < 0
		case "<=":
			ok = c <= 0
		}
		if !ok {
			return false
		}
	}
	return true
}

// compare compares as numbers, then as times, then as text.
func compare(a, b string) int {
	if x, err := strconv.ParseFloat(a, 64); err == nil {
		if y, err := strconv.ParseFloat(b, 64); err == nil {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	if x, err := time.Parse(time.RFC3339, a); err == nil {
		if y, err := time.Parse(time.RFC3339, b); err == nil {
			return x.Compare(y)
		}
	}
	return strings.Compare(a, b)
}

// orderBy sorts by the first key of order ({"ID":"ASC"}); ID ascending by default.
func orderBy(rs []Record, order any) {
	field, desc := "ID", false
	if m, ok := order.(map[string]any); ok && len(m) > 0 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		field = strings.ToUpper(keys[0])
		desc = strings.EqualFold(fmt.Sprint(m[keys[0]]), "DESC")
	}
	sort.SliceStable(rs, func(i, j int) bool {
		c := compare(fmt.Sprint(rs[i][field]), fmt.Sprint(rs[j][field]))
		if desc {
			return c > 0
		}
		return c < 0
	})
}

// selection is a list method's select: "*" (or nothing) for the plain fields, "UF_*" for
// the custom ones, and multifields only by name.
type selection []string

func (sel selection) apply(r Record) Record {
	all := len(sel) == 0
	uf := false
	named := map[string]bool{"ID": true}
	for _, f := range sel {
		switch f = strings.ToUpper(f); f {
		case "*":
			all = true
		case "UF_*":
			uf = true
		default:
			named[f] = true
		}
	}
	out := Record{}
	for k, v := range r {
		isUF := strings.HasPrefix(k, "UF_")
		if named[k] || (all && !isUF && !isMulti(k)) || (uf && isUF) {
			out[k] = v
		}
	}
	return cloneRecord(out)
}

// selectionOf reads the select parameter.
func selectionOf(v any) selection {
	list, _ := v.([]any)
	var out selection
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// findByComm is crm.duplicate.findbycomm: ids of the entities whose PHONE or EMAIL has
// one of the values, by entity type, or an empty list when there are none.
func (s *Server) findByComm(p map[string]any) (answer, *apiError) {
	typ := strings.ToUpper(fmt.Sprint(p["type"]))
	if typ != "PHONE" && typ != "EMAIL" {
		return answer{}, errorf(http.StatusBadRequest, "", "Parameter 'type' is not defined or invalid")
	}
	values, ok := p["values"].([]any)
	if !ok || len(values) == 0 {
		return answer{}, errorf(http.StatusBadRequest, "", "Parameter 'values' must be array.")
	}
	if len(values) > 20 {
		return answer{}, errorf(http.StatusBadRequest, "", "Too many values: 20 at most")
	}
	entities := []string{"LEAD", "CONTACT", "COMPANY"}
	if et, ok := p["entity_type"].(string); ok && et != "" {
		entities = []string{strings.ToUpper(et)}
	}
	found := map[string]any{}
	for _, et := range entities {
		var ids []int64
		for _, r := range s.records[strings.ToLower(et)] {
			if hasComm(r[typ], typ, values) {
				id, _ := strconv.ParseInt(fmt.Sprint(r["ID"]), 10, 64)
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			found[et] = ids
		}
	}
	if len(found) == 0 {
		// PHP's empty array: a list, not an object.
		return answer{Result: []any{}}, nil
	}
	return answer{Result: found}, nil
}

func hasComm(field any, typ string, values []any) bool {
	list, _ := field.([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		have := normComm(typ, fmt.Sprint(m["VALUE"]))
		for _, v := range values {
			if have != "" && have == normComm(typ, fmt.Sprint(v)) {
				return true
			}
		}
	}
	return false
}

func normComm(typ, v string) string {
	if typ == "EMAIL" {
		return strings.ToLower(strings.TrimSpace(v))
	}
	var b strings.Builder
	for _, r := range v {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// commentEntities are the ENTITY_TYPE values crm.timeline.comment.add takes.
var commentEntities = map[string]bool{"lead": true, "deal": true, "contact": true, "company": true}

func (s *Server) addComment(p map[string]any) (answer, *apiError) {
	fields, ok := p["fields"].(map[string]any)
	if !ok {
		return answer{}, errorf(http.StatusBadRequest, "", "Parameter 'fields' must be array.")
	}
	et := strings.ToLower(fmt.Sprint(fields["ENTITY_TYPE"]))
	if !commentEntities[et] {
		return answer{}, errorf(http.StatusBadRequest, "", "ENTITY_TYPE is not defined or invalid.")
	}
	id := fmt.Sprint(scalar(fields["ENTITY_ID"]))
	if et == "lead" || et == "contact" {
		exists := false
		for _, r := range s.records[et] {
			exists = exists || r["ID"] == id
		}
		if !exists {
			return answer{}, errorf(http.StatusBadRequest, "", "Entity not found.")
		}
	}
	comment, _ := fields["COMMENT"].(string)
	if strings.TrimSpace(comment) == "" {
		return answer{}, errorf(http.StatusBadRequest, "", "COMMENT is empty.")
	}
	return answer{Result: s.addLocked("comment", map[string]any{"ENTITY_TYPE": et, "ENTITY_ID": id, "COMMENT": comment,
		"AUTHOR_ID": s.opts.UserID})}, nil
}

func (s *Server) listComments(p map[string]any) (answer, *apiError) {
	filter, _ := p["filter"].(map[string]any)
	if filter["ENTITY_ID"] == nil || filter["ENTITY_TYPE"] == nil {
		return answer{}, errorf(http.StatusBadRequest, "", "ENTITY_ID and ENTITY_TYPE are required in filter.")
	}
	return s.listEntity("comment", p)
}
