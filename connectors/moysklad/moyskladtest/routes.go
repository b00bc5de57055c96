package moyskladtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// listTypes are the entity types the fake lists and reads.
var listTypes = map[string]bool{"counterparty": true, "customerorder": true, "organization": true, "product": true, "webhook": true}

// route dispatches an authenticated request under the base path.
func (s *Server) route(ex *exchange) {
	parts := strings.Split(ex.path, "/")
	if len(parts) < 2 || parts[0] != "entity" || !listTypes[parts[1]] {
		ex.fail(http.StatusNotFound, 1002, "", "Неизвестный тип сущности: "+ex.path)
		return
	}
	typ := parts[1]
	m := ex.r.Method
	switch {
	case len(parts) == 2 && m == http.MethodGet:
		s.list(ex, typ)
	case len(parts) == 2 && m == http.MethodPost:
		s.create(ex, typ)
	case len(parts) == 3 && typ == "customerorder" && parts[2] == "metadata" && m == http.MethodGet:
		s.mu.Lock()
		states := append([]map[string]any(nil), s.states...)
		s.mu.Unlock()
		ex.ok(map[string]any{"meta": map[string]any{"href": s.URL + "/entity/customerorder/metadata", "mediaType": "application/json"}, "states": states})
	case len(parts) == 3 && m == http.MethodGet:
		s.mu.Lock()
		e := s.findLocked(typ, parts[2])
		var out map[string]any
		if e != nil {
			out = s.renderLocked(typ, e, ex.r.URL.Query().Get("expand"))
		}
		s.mu.Unlock()
		if out == nil {
			ex.fail(http.StatusNotFound, 1021, "", fmt.Sprintf("Объект с UUID '%s' не найден", parts[2]))
			return
		}
		ex.ok(out)
	case len(parts) == 3 && m == http.MethodPut:
		s.update(ex, typ, parts[2])
	case len(parts) == 3 && m == http.MethodDelete:
		s.remove(ex, typ, parts[2])
	case len(parts) == 4 && typ == "customerorder" && parts[3] == "positions" && m == http.MethodGet:
		s.mu.Lock()
		rows := make([]any, 0)
		for _, p := range s.positions[parts[2]] {
			rows = append(rows, p)
		}
		found := s.findLocked(typ, parts[2]) != nil
		s.mu.Unlock()
		if !found {
			ex.fail(http.StatusNotFound, 1021, "", fmt.Sprintf("Объект с UUID '%s' не найден", parts[2]))
			return
		}
		s.page(ex, "customerorderposition", rows)
	default:
		ex.fail(http.StatusMethodNotAllowed, 1004, "", "Метод "+m+" не поддерживается для "+ex.path)
	}
}

// list answers a list of typ with filter, search, order, limit, offset and expand.
func (s *Server) list(ex *exchange, typ string) {
	q := ex.r.URL.Query()
	conds, err := parseFilter(q.Get("filter"))
	if err != nil {
		ex.fail(http.StatusBadRequest, 1002, "filter", err.Error())
		return
	}
	s.mu.Lock()
	var rows []map[string]any
	for _, e := range s.entities[typ] {
		if matchAll(e, conds) && matchSearch(e, q.Get("search")) {
			rows = append(rows, e)
		}
	}
	s.mu.Unlock()
	if order := q.Get("order"); order != "" {
		field, dir, _ := strings.Cut(order, ",")
		sort.SliceStable(rows, func(i, j int) bool {
			a, b := fmt.Sprint(rows[i][field]), fmt.Sprint(rows[j][field])
			if dir == "desc" {
				return a > b
			}
			return a < b
		})
	}
	limit, offset, ok := s.paging(ex)
	if !ok {
		return
	}
	expand := q.Get("expand")
	if limit > 100 {
		expand = "" // as the real API: silently ignored above 100
	}
	out := make([]any, 0)
	s.mu.Lock()
	for i := offset; i < len(rows) && i < offset+limit; i++ {
		out = append(out, s.renderLocked(typ, rows[i], expand))
	}
	s.mu.Unlock()
	ex.ok(s.listBody(ex, typ, out, len(rows), limit, offset))
}

// page answers a list that needs no filtering.
func (s *Server) page(ex *exchange, typ string, rows []any) {
	limit, offset, ok := s.paging(ex)
	if !ok {
		return
	}
	out := make([]any, 0)
	for i := offset; i < len(rows) && i < offset+limit; i++ {
		out = append(out, rows[i])
	}
	ex.ok(s.listBody(ex, typ, out, len(rows), limit, offset))
}

func (s *Server) paging(ex *exchange) (limit, offset int, ok bool) {
	q := ex.r.URL.Query()
	limit, offset = 1000, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			ex.fail(http.StatusBadRequest, 1002, "limit", "Параметр limit должен быть числом от 1 до 1000")
			return 0, 0, false
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			ex.fail(http.StatusBadRequest, 1002, "offset", "Параметр offset должен быть неотрицательным числом")
			return 0, 0, false
		}
		offset = n
	}
	return limit, offset, true
}

func (s *Server) listBody(ex *exchange, typ string, rows []any, size, limit, offset int) map[string]any {
	href := func(off int) string {
		q := ex.r.URL.Query()
		q.Set("limit", strconv.Itoa(limit))
		q.Set("offset", strconv.Itoa(off))
		return s.URL + "/" + ex.path + "?" + q.Encode()
	}
	m := map[string]any{"href": s.URL + "/" + ex.path, "type": typ, "mediaType": "application/json",
		"size": size, "limit": limit, "offset": offset}
	if offset+limit < size {
		m["nextHref"] = href(offset + limit)
	}
	if offset > 0 {
		m["previousHref"] = href(max(offset-limit, 0))
	}
	return map[string]any{
		"context": map[string]any{"employee": map[string]any{"meta": map[string]any{"href": s.URL + "/context/employee", "type": "employee", "mediaType": "application/json"}}},
		"meta":    m, "rows": rows,
	}
}

// renderLocked returns a copy of an entity with the references named in expand replaced
// by the entities themselves, and an order's positions as a MetaArray.
func (s *Server) renderLocked(typ string, e map[string]any, expand string) map[string]any {
	out := clone(e)
	if typ == "customerorder" {
		id := str(e["id"])
		pm := map[string]any{"href": s.URL + "/entity/customerorder/" + id + "/positions", "type": "customerorderposition",
			"mediaType": "application/json", "size": len(s.positions[id]), "limit": 1000, "offset": 0}
		out["positions"] = map[string]any{"meta": pm}
	}
	for _, field := range strings.Split(expand, ",") {
		field, _, _ = strings.Cut(strings.TrimSpace(field), ".")
		if field == "" {
			continue
		}
		if field == "positions" && typ == "customerorder" {
			rows := make([]any, 0)
			for _, p := range s.positions[str(e["id"])] {
				rows = append(rows, p)
			}
			out["positions"].(map[string]any)["rows"] = rows
			continue
		}
		r, ok := out[field].(map[string]any)
		if !ok {
			continue
		}
		m, _ := r["meta"].(map[string]any)
		if _, target := s.byHrefLocked(str(m["href"])); target != nil {
			out[field] = clone(target)
		} else if state := s.stateLocked(str(m["href"])); state != nil {
			out[field] = clone(state) // expand=state, as MoySklad answers it
		}
	}
	return out
}

// create answers POST entity/<typ>.
func (s *Server) create(ex *exchange, typ string) {
	var in map[string]any
	if !decodeBody(ex, &in) {
		return
	}
	switch typ {
	case "counterparty":
		s.createCounterparty(ex, in)
	case "customerorder":
		s.createOrder(ex, in)
	case "webhook":
		s.createWebhook(ex, in)
	default:
		ex.fail(http.StatusMethodNotAllowed, 1004, "", "Создание "+typ+" не поддерживается фейком")
	}
}

func decodeBody(ex *exchange, v any) bool {
	if ct := ex.r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		ex.fail(http.StatusBadRequest, 1037, "", "Неверный Content-Type: ожидается application/json")
		return false
	}
	if err := json.Unmarshal(ex.body, v); err != nil {
		ex.fail(http.StatusBadRequest, 2016, "", "Ошибка формата JSON: "+err.Error())
		return false
	}
	return true
}

// bySyncIDLocked finds an entity of typ created with syncID.
func (s *Server) bySyncIDLocked(typ, syncID string) map[string]any {
	if syncID == "" {
		return nil
	}
	for _, e := range s.entities[typ] {
		if e["syncId"] == syncID {
			return e
		}
	}
	return nil
}

func (s *Server) createCounterparty(ex *exchange, in map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.bySyncIDLocked("counterparty", str(in["syncId"])); e != nil {
		ex.ok(s.renderLocked("counterparty", e, ""))
		return
	}
	if strings.TrimSpace(str(in["name"])) == "" {
		ex.fail(http.StatusPreconditionFailed, 3000, "name", "Ошибка сохранения объекта: поле 'name' не может быть пустым")
		return
	}
	if ct, ok := in["companyType"]; ok && ct != "legal" && ct != "entrepreneur" && ct != "individual" {
		ex.fail(http.StatusBadRequest, 2016, "companyType", fmt.Sprintf("Неизвестное значение companyType: %v", ct))
		return
	}
	if _, ok := in["companyType"]; !ok {
		in["companyType"] = "legal"
	}
	in["accounts"] = s.metaArrayLocked("counterparty", "accounts")
	in["contactpersons"] = s.metaArrayLocked("counterparty", "contactpersons")
	e := s.insertLocked("counterparty", in)
	ex.events = append(ex.events, pendingEvent{typ: "counterparty", action: "CREATE", href: s.Href("counterparty", str(e["id"]))})
	ex.ok(s.renderLocked("counterparty", e, ""))
}

func (s *Server) metaArrayLocked(typ, sub string) map[string]any {
	return map[string]any{"meta": map[string]any{"href": s.URL + "/entity/" + typ + "/" + sub, "type": sub, "mediaType": "application/json", "size": 0, "limit": 1000, "offset": 0}}
}

func (s *Server) createOrder(ex *exchange, in map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.bySyncIDLocked("customerorder", str(in["syncId"])); e != nil {
		ex.ok(s.renderLocked("customerorder", e, ""))
		return
	}
	for _, field := range []string{"organization", "agent"} {
		typ, target := s.byHrefLocked(refHref(in[field]))
		if in[field] == nil {
			ex.fail(http.StatusPreconditionFailed, 3000, field, fmt.Sprintf("Ошибка сохранения объекта: поле '%s' не может быть пустым", field))
			return
		}
		if target == nil || (field == "organization" && typ != "organization") || (field == "agent" && typ != "counterparty" && typ != "organization") {
			ex.fail(http.StatusPreconditionFailed, 1021, field, fmt.Sprintf("Объект, указанный в поле '%s', не найден", field))
			return
		}
	}
	positions, _ := in["positions"].([]any)
	if len(positions) > 1000 {
		ex.fail(http.StatusRequestEntityTooLarge, 0, "positions", fmt.Sprintf("В массиве %d элементов, максимум 1000", len(positions)))
		return
	}
	if st, ok := in["state"]; ok && st != nil {
		found := false
		for _, state := range s.states {
			found = found || state["meta"].(map[string]any)["href"] == refHref(st)
		}
		if !found {
			ex.fail(http.StatusPreconditionFailed, 11001, "state", "Неизвестный статус: "+refHref(st))
			return
		}
	} else {
		in["state"] = map[string]any{"meta": s.states[0]["meta"]}
	}
	var stored []map[string]any
	sum := 0.0
	for i, raw := range positions {
		p, _ := raw.(map[string]any)
		typ, target := s.byHrefLocked(refHref(p["assortment"]))
		if target == nil || (typ != "product" && typ != "service" && typ != "variant" && typ != "bundle") {
			ex.fail(http.StatusPreconditionFailed, 1021, fmt.Sprintf("positions[%d].assortment", i), "Товар, указанный в позиции, не найден")
			return
		}
		qty, price, discount := num(p["quantity"], 1), num(p["price"], 0), num(p["discount"], 0)
		if qty <= 0 {
			ex.fail(http.StatusPreconditionFailed, 3000, fmt.Sprintf("positions[%d].quantity", i), "Количество должно быть больше нуля")
			return
		}
		sum += qty * price * (1 - discount/100)
		stored = append(stored, map[string]any{"id": s.newIDLocked(), "accountId": AccountID, "quantity": qty, "price": price,
			"discount": discount, "vat": num(p["vat"], 0), "assortment": map[string]any{"meta": target["meta"]}, "reserve": 0})
	}
	in["name"] = fmt.Sprintf("%05d", len(s.entities["customerorder"])+1)
	in["moment"] = s.clock.Format("2006-01-02 15:04:05.000")
	in["sum"] = int64(sum + 0.5)
	in["applicable"] = true
	in["rate"] = map[string]any{"currency": map[string]any{"meta": s.metaLocked("entity/currency/00000000-0000-4000-8000-000000000643", "currency")}}
	delete(in, "positions")
	e := s.insertLocked("customerorder", in)
	for _, p := range stored {
		p["meta"] = s.metaLocked("entity/customerorder/"+str(e["id"])+"/positions/"+str(p["id"]), "customerorderposition")
	}
	s.positions[str(e["id"])] = stored
	ex.events = append(ex.events, pendingEvent{typ: "customerorder", action: "CREATE", href: s.Href("customerorder", str(e["id"]))})
	ex.ok(s.renderLocked("customerorder", e, ""))
}

// update answers PUT entity/<typ>/<id>: the fields given replace the stored ones, and an
// UPDATE event names them.
func (s *Server) update(ex *exchange, typ, id string) {
	var in map[string]any
	if !decodeBody(ex, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.findLocked(typ, id)
	if e == nil {
		ex.fail(http.StatusNotFound, 1021, "", fmt.Sprintf("Объект с UUID '%s' не найден", id))
		return
	}
	if sid, ok := in["syncId"]; ok && sid != e["syncId"] {
		ex.fail(http.StatusPreconditionFailed, 1047, "syncId", "Поле syncId нельзя изменить")
		return
	}
	if typ == "webhook" {
		s.updateWebhookLocked(ex, e, in)
		return
	}
	var fields []string
	for k, v := range in {
		if k == "id" || k == "meta" || k == "syncId" {
			continue
		}
		e[k] = v
		fields = append(fields, k)
	}
	sort.Strings(fields)
	e["updated"] = s.nowLocked()
	ex.events = append(ex.events, pendingEvent{typ: typ, action: "UPDATE", href: s.Href(typ, id), fields: fields})
	ex.ok(s.renderLocked(typ, e, ""))
}

// remove answers DELETE entity/<typ>/<id>.
func (s *Server) remove(ex *exchange, typ, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.entities[typ]
	for i, e := range list {
		if e["id"] == id {
			s.entities[typ] = append(list[:i:i], list[i+1:]...)
			if typ != "webhook" {
				ex.events = append(ex.events, pendingEvent{typ: typ, action: "DELETE", href: s.Href(typ, id)})
			}
			ex.status = http.StatusOK
			return
		}
	}
	ex.fail(http.StatusNotFound, 1021, "", fmt.Sprintf("Объект с UUID '%s' не найден", id))
}

// ---- filter ----

type cond struct {
	field, op, value string
}

// filterOps are the operators, longest first so ">=" wins over ">".
var filterOps = []string{"!=", ">=", "<=", "~=", "=~", "=", "~", ">", "<"}

// parseFilter reads filter=f<op>v;f<op>v, where "\;" is a ";" inside a value.
func parseFilter(raw string) ([]cond, error) {
	if raw == "" {
		return nil, nil
	}
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '\\' && i+1 < len(raw) && raw[i+1] == ';':
			cur.WriteByte(';')
			i++
		case raw[i] == ';':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(raw[i])
		}
	}
	parts = append(parts, cur.String())
	var out []cond
	for _, p := range parts {
		if p == "" {
			continue
		}
		i := strings.IndexAny(p, "!=<>~")
		if i <= 0 {
			return nil, fmt.Errorf("неверный фильтр: %q", p)
		}
		var op string
		for _, o := range filterOps {
			if strings.HasPrefix(p[i:], o) {
				op = o
				break
			}
		}
		if op == "" {
			return nil, fmt.Errorf("неверный оператор в фильтре: %q", p)
		}
		out = append(out, cond{field: p[:i], op: op, value: p[i+len(op):]})
	}
	return out, nil
}

// matchAll applies the conditions: "=" repeated on one field is OR, fields are ANDed.
func matchAll(e map[string]any, conds []cond) bool {
	eq := map[string]bool{}    // field has an "=" condition
	eqHit := map[string]bool{} // and one of them matched
	for _, c := range conds {
		v := fieldValue(e, c.field)
		if c.op == "=" {
			eq[c.field] = true
			if v == c.value {
				eqHit[c.field] = true
			}
			continue
		}
		if !matchOp(v, c.op, c.value) {
			return false
		}
	}
	for f := range eq {
		if !eqHit[f] {
			return false
		}
	}
	return true
}

func matchOp(v, op, want string) bool {
	lv, lw := strings.ToLower(v), strings.ToLower(want)
	switch op {
	case "!=":
		return v != want
	case ">":
		return v > want
	case "<":
		return v < want
	case ">=":
		return v >= want
	case "<=":
		return v <= want
	case "~":
		return strings.Contains(lv, lw)
	case "~=":
		return strings.HasPrefix(lv, lw)
	case "=~":
		return strings.HasSuffix(lv, lw)
	}
	return false
}

// fieldValue reads a field for filtering: references by their href, state.name by name.
func fieldValue(e map[string]any, field string) string {
	head, rest, _ := strings.Cut(field, ".")
	v := e[head]
	if m, ok := v.(map[string]any); ok {
		if rest != "" {
			return fmt.Sprint(m[rest])
		}
		return refHref(m)
	}
	if v == nil {
		return ""
	}
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// matchSearch is the loose search: a substring of the name, code, email or phone.
func matchSearch(e map[string]any, q string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	for _, f := range []string{"name", "code", "legalTitle", "email", "phone", "description"} {
		if strings.Contains(strings.ToLower(str(e[f])), q) {
			return true
		}
	}
	return false
}

func refHref(v any) string {
	m, _ := v.(map[string]any)
	meta, _ := m["meta"].(map[string]any)
	return str(meta["href"])
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any, def float64) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case json.Number:
		f, _ := n.Float64()
		return f
	}
	return def
}

// validURL reports whether s is an absolute http(s) URL.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
