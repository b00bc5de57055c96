package pipedrivetest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Contact is one email address or phone number of a person, as v1 returns them.
type Contact struct {
	Label   string `json:"label"`
	Value   string `json:"value"`
	Primary bool   `json:"primary"`
}

// Person is a person the fake holds.
type Person struct {
	ID      int64
	Name    string
	Emails  []Contact
	Phones  []Contact
	OrgID   int64
	OwnerID int64
	AddTime time.Time
	// Fields holds the body's other keys (custom field hashes, label_ids...).
	Fields map[string]any
}

// Value is a lead's value.
type Value struct {
	Amount   json.Number `json:"amount"`
	Currency string      `json:"currency"`
}

// Lead is a lead the fake holds.
type Lead struct {
	ID                string
	Title             string
	PersonID          int64
	OrganizationID    int64
	OwnerID           int64
	Value             *Value
	LabelIDs          []string
	ExpectedCloseDate string
	OriginID          string
	AddTime           time.Time
}

// Deal is a deal the fake holds.
type Deal struct {
	ID         int64
	Title      string
	Value      json.Number
	Currency   string
	UserID     int64
	PersonID   int64
	OrgID      int64
	PipelineID int64
	StageID    int64
	Status     string
	OriginID   string
	AddTime    time.Time
	UpdateTime time.Time
}

// Persons returns the persons the fake holds, oldest first.
func (s *Server) Persons() []Person {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Person, len(s.persons))
	for i, p := range s.persons {
		out[i] = *p
	}
	return out
}

// Leads returns the leads the fake holds, oldest first.
func (s *Server) Leads() []Lead {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Lead, len(s.leads))
	for i, l := range s.leads {
		out[i] = *l
	}
	return out
}

// Deals returns the deals the fake holds, in creation order.
func (s *Server) Deals() []Deal {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Deal, len(s.deals))
	for i, d := range s.deals {
		out[i] = *d
	}
	return out
}

// AddPerson stores a person as if it had been created before the test, and returns its
// id. A zero AddTime is now.
func (s *Server) AddPerson(p Person) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	p.ID = s.nextID
	if p.AddTime.IsZero() {
		p.AddTime = s.now()
	}
	s.persons = append(s.persons, &p)
	return p.ID
}

// AddDeal stores a deal as if it had been created before the test (at d.AddTime, now
// when zero), and returns its id.
func (s *Server) AddDeal(d Deal) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	d.ID = s.nextID
	if d.AddTime.IsZero() {
		d.AddTime = s.now()
	}
	if d.UpdateTime.IsZero() {
		d.UpdateTime = d.AddTime
	}
	if d.Status == "" {
		d.Status = "open"
	}
	if d.Currency == "" {
		d.Currency = "USD"
	}
	s.deals = append(s.deals, &d)
	return d.ID
}

func (s *Server) person(id int64) *Person {
	for _, p := range s.persons {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// contacts reads an email or phone value: a string, a list of strings, or a list of
// {value, primary, label} objects. The first one is primary unless one says otherwise.
func contacts(v any) ([]Contact, error) {
	var out []Contact
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if x != "" {
			out = append(out, Contact{Value: x})
		}
	case []any:
		for _, e := range x {
			switch c := e.(type) {
			case string:
				out = append(out, Contact{Value: c})
			case map[string]any:
				val, _ := c["value"].(string)
				label, _ := c["label"].(string)
				primary, _ := c["primary"].(bool)
				out = append(out, Contact{Value: val, Label: label, Primary: primary})
			default:
				return nil, fmt.Errorf("unexpected %T", e)
			}
		}
	default:
		return nil, fmt.Errorf("unexpected %T", v)
	}
	hasPrimary := false
	for _, c := range out {
		hasPrimary = hasPrimary || c.Primary
	}
	if len(out) > 0 && !hasPrimary {
		out[0].Primary = true
	}
	return out, nil
}

func intField(body map[string]any, key string) (int64, bool, error) {
	v, ok := body[key]
	if !ok || v == nil {
		return 0, false, nil
	}
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return 0, true, fmt.Errorf("%s must be an integer", key)
		}
		return i, true, nil
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return 0, true, fmt.Errorf("%s must be an integer", key)
		}
		return i, true, nil
	}
	return 0, true, fmt.Errorf("%s must be an integer", key)
}

func (s *Server) addPerson(_ *http.Request, body map[string]any, _ string) (int, any) {
	name, _ := body["name"].(string)
	if strings.TrimSpace(name) == "" {
		return http.StatusBadRequest, errBody("Name must be given.")
	}
	emails, err := contacts(body["email"])
	if err != nil {
		return http.StatusBadRequest, errBody("Invalid email: " + err.Error())
	}
	phones, err := contacts(body["phone"])
	if err != nil {
		return http.StatusBadRequest, errBody("Invalid phone: " + err.Error())
	}
	p := &Person{Name: strings.TrimSpace(name), Emails: emails, Phones: phones, AddTime: s.now(), OwnerID: 1, Fields: map[string]any{}}
	for _, k := range []string{"org_id", "owner_id"} {
		n, ok, err := intField(body, k)
		if err != nil {
			return http.StatusBadRequest, errBody(err.Error())
		}
		if ok && k == "org_id" {
			p.OrgID = n
		} else if ok {
			p.OwnerID = n
		}
	}
	for k, v := range body {
		switch k {
		case "name", "email", "phone", "org_id", "owner_id":
		default:
			p.Fields[k] = v
		}
	}
	s.nextID++
	p.ID = s.nextID
	s.persons = append(s.persons, p)
	return http.StatusCreated, map[string]any{"success": true, "data": p.v1(), "related_objects": map[string]any{}}
}

func (p *Person) v1() map[string]any {
	m := map[string]any{}
	for k, v := range p.Fields {
		m[k] = v
	}
	emails, phones := p.Emails, p.Phones
	if emails == nil {
		emails = []Contact{{Value: "", Primary: true}}
	}
	if phones == nil {
		phones = []Contact{{Value: "", Primary: true}}
	}
	var org any
	if p.OrgID != 0 {
		org = p.OrgID
	}
	first, last, _ := strings.Cut(p.Name, " ")
	for k, v := range map[string]any{
		"id": p.ID, "name": p.Name, "first_name": first, "last_name": last, "email": emails, "phone": phones,
		"org_id": org, "owner_id": map[string]any{"id": p.OwnerID, "value": p.OwnerID}, "active_flag": true,
		"visible_to": "3", "add_time": p.AddTime.UTC().Format(v1Time), "update_time": p.AddTime.UTC().Format(v1Time),
	} {
		m[k] = v
	}
	return m
}

func errBody(message string) map[string]any {
	return map[string]any{"success": false, "error": message, "error_info": "Please check developers.pipedrive.com",
		"data": nil, "additional_data": nil}
}

func (s *Server) getPerson(_ *http.Request, _ map[string]any, id string) (int, any) {
	n, err := strconv.ParseInt(id, 10, 64)
	if p := s.person(n); err == nil && p != nil {
		return http.StatusOK, map[string]any{"success": true, "data": p.v1()}
	}
	return http.StatusNotFound, errBody("Person not found")
}

func (s *Server) listPersons(r *http.Request, _ map[string]any, _ string) (int, any) {
	page, pg, err := paginate(s.persons, r.URL.Query())
	if err != nil {
		return http.StatusBadRequest, errBody(err.Error())
	}
	data := make([]any, len(page))
	for i, p := range page {
		data[i] = p.v1()
	}
	return http.StatusOK, map[string]any{"success": true, "data": data, "additional_data": map[string]any{"pagination": pg}}
}

// searchPersons is GET /v1/persons/search: term in name, email or phone (fields), as a
// substring or, with exact_match, as the whole value; case-blind either way.
func (s *Server) searchPersons(r *http.Request, _ map[string]any, _ string) (int, any) {
	q := r.URL.Query()
	term := strings.TrimSpace(first(q, "term"))
	exact := first(q, "exact_match") == "true" || first(q, "exact_match") == "1"
	if term == "" || (!exact && len([]rune(term)) < 2) {
		return http.StatusBadRequest, errBody("The search term must be at least 2 characters long (1 with exact_match)")
	}
	fields := []string{"name", "email", "phone", "notes", "custom_fields"}
	if f := first(q, "fields"); f != "" {
		fields = strings.Split(f, ",")
	}
	match := func(v string) bool {
		if exact {
			return strings.EqualFold(v, term)
		}
		return strings.Contains(strings.ToLower(v), strings.ToLower(term))
	}
	var found []any
	for _, p := range s.persons {
		hit := false
		for _, f := range fields {
			switch strings.TrimSpace(f) {
			case "name":
				hit = hit || match(p.Name)
			case "email":
				hit = hit || slices.ContainsFunc(p.Emails, func(c Contact) bool { return match(c.Value) })
			case "phone":
				hit = hit || slices.ContainsFunc(p.Phones, func(c Contact) bool { return match(c.Value) })
			case "notes", "custom_fields":
			default:
				return http.StatusBadRequest, errBody("Invalid field: " + f)
			}
		}
		if !hit {
			continue
		}
		values := func(cs []Contact) []string {
			out := []string{}
			for _, c := range cs {
				out = append(out, c.Value)
			}
			return out
		}
		found = append(found, map[string]any{"result_score": 1, "item": map[string]any{
			"id": p.ID, "type": "person", "name": p.Name, "phones": values(p.Phones), "emails": values(p.Emails),
			"visible_to": 3, "owner": map[string]any{"id": p.OwnerID}, "organization": nil,
			"custom_fields": []any{}, "notes": []any{},
		}})
	}
	page, pg, err := paginate(found, q)
	if err != nil {
		return http.StatusBadRequest, errBody(err.Error())
	}
	return http.StatusOK, map[string]any{"success": true, "data": map[string]any{"items": page},
		"additional_data": map[string]any{"pagination": pg}}
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *Server) addLead(_ *http.Request, body map[string]any, _ string) (int, any) {
	title, _ := body["title"].(string)
	if strings.TrimSpace(title) == "" {
		return http.StatusBadRequest, errBody("Validation failed: title: Title is required")
	}
	l := &Lead{Title: title, OwnerID: 1, AddTime: s.now()}
	var err error
	var hasPerson, hasOrg bool
	if l.PersonID, hasPerson, err = intField(body, "person_id"); err != nil {
		return http.StatusBadRequest, errBody("Validation failed: " + err.Error())
	}
	if l.OrganizationID, hasOrg, err = intField(body, "organization_id"); err != nil {
		return http.StatusBadRequest, errBody("Validation failed: " + err.Error())
	}
	if !hasPerson && !hasOrg {
		return http.StatusBadRequest, errBody("Validation failed: A lead must be linked to a person or an organization or both")
	}
	if hasPerson && s.person(l.PersonID) == nil {
		return http.StatusBadRequest, errBody(fmt.Sprintf("Person with id %d does not exist", l.PersonID))
	}
	if n, ok, err := intField(body, "owner_id"); err != nil {
		return http.StatusBadRequest, errBody("Validation failed: " + err.Error())
	} else if ok {
		l.OwnerID = n
	}
	if v, ok := body["value"]; ok && v != nil {
		m, isObj := v.(map[string]any)
		amount, hasAmount := m["amount"].(json.Number)
		currency, _ := m["currency"].(string)
		if !isObj || !hasAmount || currency == "" {
			return http.StatusBadRequest, errBody("Validation failed: value: Both amount and currency are required")
		}
		l.Value = &Value{Amount: amount, Currency: currency}
	}
	if v, ok := body["label_ids"]; ok && v != nil {
		list, isList := v.([]any)
		if !isList {
			return http.StatusBadRequest, errBody("Validation failed: label_ids: Must be an array of UUIDs")
		}
		for _, e := range list {
			id, isString := e.(string)
			if !isString || len(id) != 36 {
				return http.StatusBadRequest, errBody("Validation failed: label_ids: Must be an array of UUIDs")
			}
			l.LabelIDs = append(l.LabelIDs, id)
		}
	}
	l.ExpectedCloseDate, _ = body["expected_close_date"].(string)
	l.OriginID, _ = body["origin_id"].(string)
	l.ID = newUUID()
	s.leads = append(s.leads, l)
	return http.StatusCreated, map[string]any{"success": true, "data": l.v1()}
}

func optionalInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func optionalString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (l *Lead) v1() map[string]any {
	var value any
	if l.Value != nil {
		value = l.Value
	}
	labels := l.LabelIDs
	if labels == nil {
		labels = []string{}
	}
	at := l.AddTime.UTC().Format("2006-01-02T15:04:05.000Z")
	return map[string]any{
		"id": l.ID, "title": l.Title, "owner_id": l.OwnerID, "creator_id": l.OwnerID, "label_ids": labels,
		"person_id": optionalInt(l.PersonID), "organization_id": optionalInt(l.OrganizationID),
		"source_name": "API", "origin": "API", "origin_id": optionalString(l.OriginID), "channel": nil, "channel_id": nil,
		"is_archived": false, "was_seen": false, "value": value, "expected_close_date": optionalString(l.ExpectedCloseDate),
		"next_activity_id": nil, "add_time": at, "update_time": at, "visible_to": "3",
		"cc_email": "fakeco+lead@pipedrivemail.com",
	}
}

func (s *Server) listLeads(r *http.Request, _ map[string]any, _ string) (int, any) {
	q := r.URL.Query()
	var leads []*Lead
	for _, l := range s.leads {
		if v := first(q, "person_id"); v != "" && v != strconv.FormatInt(l.PersonID, 10) {
			continue
		}
		if v := first(q, "organization_id"); v != "" && v != strconv.FormatInt(l.OrganizationID, 10) {
			continue
		}
		leads = append(leads, l)
	}
	if err := sortBy(leads, first(q, "sort"), func(l *Lead) (time.Time, string) { return l.AddTime, l.ID }); err != nil {
		return http.StatusBadRequest, errBody(err.Error())
	}
	page, pg, err := paginate(leads, q)
	if err != nil {
		return http.StatusBadRequest, errBody(err.Error())
	}
	data := make([]any, len(page))
	for i, l := range page {
		data[i] = l.v1()
	}
	return http.StatusOK, map[string]any{"success": true, "data": data, "additional_data": map[string]any{"pagination": pg}}
}

// sortBy applies a v1 sort parameter, "add_time DESC" or "add_time ASC" (the default
// order is oldest first); ties keep creation order.
func sortBy[T any](items []T, sort string, key func(T) (time.Time, string)) error {
	if sort == "" {
		return nil
	}
	field, dir, _ := strings.Cut(strings.TrimSpace(sort), " ")
	if field != "add_time" && field != "id" {
		return fmt.Errorf("sort: unsupported field %q", field)
	}
	desc := strings.EqualFold(strings.TrimSpace(dir), "DESC")
	if field == "id" {
		// Items are held in creation order, which is id order.
		if desc {
			slices.Reverse(items)
		}
		return nil
	}
	slices.SortStableFunc(items, func(a, b T) int {
		ta, _ := key(a)
		tb, _ := key(b)
		if desc {
			return tb.Compare(ta)
		}
		return ta.Compare(tb)
	})
	return nil
}

func (s *Server) addDeal(_ *http.Request, body map[string]any, _ string) (int, any) {
	title, _ := body["title"].(string)
	if strings.TrimSpace(title) == "" {
		return http.StatusBadRequest, errBody("Deal title must be given.")
	}
	d := &Deal{Title: title, Currency: "USD", UserID: 1, PipelineID: 1, StageID: 1, Status: "open", Value: "0"}
	ints := map[string]*int64{"user_id": &d.UserID, "person_id": &d.PersonID, "org_id": &d.OrgID,
		"pipeline_id": &d.PipelineID, "stage_id": &d.StageID}
	for k, p := range ints {
		n, ok, err := intField(body, k)
		if err != nil {
			return http.StatusBadRequest, errBody(err.Error())
		}
		if ok {
			*p = n
		}
	}
	if d.PersonID != 0 && s.person(d.PersonID) == nil {
		return http.StatusBadRequest, errBody(fmt.Sprintf("Person with id %d does not exist", d.PersonID))
	}
	switch v := body["value"].(type) {
	case nil:
	case json.Number:
		d.Value = v
	case string:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return http.StatusBadRequest, errBody("value must be numeric")
		}
		d.Value = json.Number(v)
	default:
		return http.StatusBadRequest, errBody("value must be numeric")
	}
	if c, _ := body["currency"].(string); c != "" {
		d.Currency = c
	}
	if st, _ := body["status"].(string); st != "" {
		if st != "open" && st != "won" && st != "lost" {
			return http.StatusBadRequest, errBody("Invalid status")
		}
		d.Status = st
	}
	d.OriginID, _ = body["origin_id"].(string)
	d.AddTime = s.now()
	d.UpdateTime = d.AddTime
	s.nextID++
	d.ID = s.nextID
	s.deals = append(s.deals, d)
	return http.StatusCreated, map[string]any{"success": true, "data": s.dealV1(d)}
}

// dealV1 writes a deal as v1 does: related person, organization and user as objects
// whose value is the id.
func (s *Server) dealV1(d *Deal) map[string]any {
	var person, org any
	if p := s.person(d.PersonID); p != nil {
		person = map[string]any{"name": p.Name, "value": p.ID, "email": p.Emails, "phone": p.Phones, "active_flag": true}
	}
	if d.OrgID != 0 {
		org = map[string]any{"name": "Organization", "value": d.OrgID}
	}
	return map[string]any{
		"id": d.ID, "title": d.Title, "value": d.Value, "currency": d.Currency,
		"user_id":   map[string]any{"id": d.UserID, "name": "Fake Admin", "value": d.UserID},
		"person_id": person, "org_id": org, "pipeline_id": d.PipelineID, "stage_id": d.StageID, "status": d.Status,
		"origin": "API", "origin_id": optionalString(d.OriginID), "channel": nil, "channel_id": nil,
		"add_time": d.AddTime.UTC().Format(v1Time), "update_time": d.UpdateTime.UTC().Format(v1Time), "active": true,
	}
}

func dealV2(d *Deal) map[string]any {
	return map[string]any{
		"id": d.ID, "title": d.Title, "value": d.Value, "currency": d.Currency, "owner_id": d.UserID,
		"person_id": optionalInt(d.PersonID), "org_id": optionalInt(d.OrgID), "pipeline_id": d.PipelineID,
		"stage_id": d.StageID, "status": d.Status, "origin": "API", "origin_id": optionalString(d.OriginID),
		"add_time": d.AddTime.UTC().Format(time.RFC3339), "update_time": d.UpdateTime.UTC().Format(time.RFC3339),
		"is_deleted": false,
	}
}

func (s *Server) listDealsV1(r *http.Request, _ map[string]any, _ string) (int, any) {
	q := r.URL.Query()
	deals := slices.Clone(s.deals)
	if err := sortBy(deals, first(q, "sort"), func(d *Deal) (time.Time, string) { return d.AddTime, "" }); err != nil {
		return http.StatusBadRequest, errBody(err.Error())
	}
	page, pg, err := paginate(deals, q)
	if err != nil {
		return http.StatusBadRequest, errBody(err.Error())
	}
	data := make([]any, len(page))
	for i, d := range page {
		data[i] = s.dealV1(d)
	}
	return http.StatusOK, map[string]any{"success": true, "data": data, "additional_data": map[string]any{"pagination": pg}}
}

// listDealsV2 is GET /api/v2/deals: cursor paging, sort_by id, add_time or update_time,
// sort_direction asc or desc, and the updated_since, person_id and org_id filters.
func (s *Server) listDealsV2(r *http.Request, _ map[string]any, _ string) (int, any) {
	q := r.URL.Query()
	var deals []*Deal
	var since time.Time
	if v := first(q, "updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return http.StatusBadRequest, errBody("updated_since must be an RFC 3339 time")
		}
		since = t
	}
	for _, d := range s.deals {
		if !since.IsZero() && d.UpdateTime.Before(since) {
			continue
		}
		if v := first(q, "person_id"); v != "" && v != strconv.FormatInt(d.PersonID, 10) {
			continue
		}
		if v := first(q, "org_id"); v != "" && v != strconv.FormatInt(d.OrgID, 10) {
			continue
		}
		if v := first(q, "pipeline_id"); v != "" && v != strconv.FormatInt(d.PipelineID, 10) {
			continue
		}
		deals = append(deals, d)
	}
	key := func(d *Deal) time.Time { return time.Unix(d.ID, 0) }
	switch first(q, "sort_by") {
	case "", "id":
	case "add_time":
		key = func(d *Deal) time.Time { return d.AddTime }
	case "update_time":
		key = func(d *Deal) time.Time { return d.UpdateTime }
	default:
		return http.StatusBadRequest, errBody("sort_by must be id, add_time or update_time")
	}
	desc := false
	switch first(q, "sort_direction") {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return http.StatusBadRequest, errBody("sort_direction must be asc or desc")
	}
	slices.SortStableFunc(deals, func(a, b *Deal) int {
		c := key(a).Compare(key(b))
		if c == 0 {
			c = int(a.ID - b.ID)
		}
		if desc {
			return -c
		}
		return c
	})
	offset := 0
	if c := first(q, "cursor"); c != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "off:"))
		if err != nil || !strings.HasPrefix(c, "off:") || n < 0 {
			return http.StatusBadRequest, errBody("Invalid cursor")
		}
		offset = n
	}
	limit := 100
	if v := first(q, "limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return http.StatusBadRequest, errBody("limit must be from 1 to 500")
		}
		limit = n
	}
	end := min(offset+limit, len(deals))
	data := []any{}
	for i := offset; i < end; i++ {
		data = append(data, dealV2(deals[i]))
	}
	var next any
	if end < len(deals) {
		next = "off:" + strconv.Itoa(end)
	}
	return http.StatusOK, map[string]any{"success": true, "data": data, "additional_data": map[string]any{"next_cursor": next}}
}
