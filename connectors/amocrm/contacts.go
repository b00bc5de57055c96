package amocrm

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// contact is a contact as amoCRM returns it.
type contact struct {
	ID           int64        `json:"id"`
	Name         string       `json:"name"`
	FirstName    string       `json:"first_name"`
	LastName     string       `json:"last_name"`
	CreatedAt    int64        `json:"created_at"`
	UpdatedAt    int64        `json:"updated_at"`
	CustomFields []fieldValue `json:"custom_fields_values"`
}

// fieldValue is one entry of custom_fields_values.
type fieldValue struct {
	FieldID   int64  `json:"field_id,omitempty"`
	FieldCode string `json:"field_code,omitempty"`
	FieldName string `json:"field_name,omitempty"`
	Values    []struct {
		Value    any    `json:"value"`
		EnumCode string `json:"enum_code,omitempty"`
	} `json:"values"`
}

// values returns the texts of the contact's multi-field with code (PHONE, EMAIL).
func (c *contact) values(code string) []string {
	var out []string
	for _, f := range c.CustomFields {
		if f.FieldCode != code {
			continue
		}
		for _, v := range f.Values {
			if s := strings.TrimSpace(fmt.Sprint(v.Value)); s != "" && v.Value != nil {
				out = append(out, s)
			}
		}
	}
	return out
}

// hasEmail reports whether one of the contact's emails is email (already normalised).
func (c *contact) hasEmail(email string) bool {
	for _, v := range c.values("EMAIL") {
		if connectors.NormalizeEmail(v) == email {
			return true
		}
	}
	return false
}

// hasPhone reports whether one of the contact's phones is phone (E.164), reading the
// stored phones with the connection's default country: people type them every way.
func (c *contact) hasPhone(phone, country string) bool {
	for _, v := range c.values("PHONE") {
		if p, err := connectors.NormalizePhone(v, country); err == nil && p == phone {
			return true
		}
	}
	return false
}

// output is the contact as actions return it.
func (c *contact) output() map[string]any {
	return map[string]any{
		"id": c.ID, "name": c.Name, "first_name": c.FirstName, "last_name": c.LastName,
		"emails": nonNil(c.values("EMAIL")), "phones": nonNil(c.values("PHONE")),
		"created_at": c.CreatedAt, "updated_at": c.UpdatedAt,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// contactList is a page of GET /api/v4/contacts.
type contactList struct {
	Embedded struct {
		Contacts []contact `json:"contacts"`
	} `json:"_embedded"`
}

// searchLimit is how many contacts one search reads: amoCRM's query matches substrings
// anywhere, so the exact match is picked from the page.
const searchLimit = 50

// findContact searches contacts by email, then by phone, and returns the oldest contact
// whose EMAIL or PHONE field holds exactly that value, or nil. amoCRM's query is a
// substring search over every field, so each hit is checked.
func (a *api) findContact(ctx context.Context, email, phone string) (*contact, error) {
	if email != "" {
		c, err := a.searchContacts(ctx, email, func(c *contact) bool { return c.hasEmail(email) })
		if err != nil || c != nil {
			return c, err
		}
	}
	if phone != "" {
		// Stored phones are written every way (+7 999…, 8 (999)…); the last ten digits
		// are in all of them, and each hit is then compared in E.164.
		q := strings.TrimPrefix(phone, "+")
		if len(q) > 10 {
			q = q[len(q)-10:]
		}
		c, err := a.searchContacts(ctx, q, func(c *contact) bool { return c.hasPhone(phone, a.country) })
		if err != nil || c != nil {
			return c, err
		}
	}
	return nil, nil
}

func (a *api) searchContacts(ctx context.Context, query string, match func(*contact) bool) (*contact, error) {
	q := url.Values{"query": {query}, "limit": {fmt.Sprint(searchLimit)}, "order[id]": {"asc"}}
	var list contactList
	found, err := a.get(ctx, "/api/v4/contacts", q, &list)
	if err != nil || !found {
		return nil, err
	}
	for i := range list.Embedded.Contacts {
		if c := &list.Embedded.Contacts[i]; match(c) {
			return c, nil
		}
	}
	return nil, nil
}
