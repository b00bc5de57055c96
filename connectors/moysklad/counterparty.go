package moysklad

import (
	"context"
	"crypto/sha1" //nolint:gosec // a name-based UUID (RFC 9562 version 5) is defined on SHA-1
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// syncID derives the syncId of an entity a step creates from the step's idempotency key:
// a version 5 UUID, the same on every attempt, different for each kind of entity one step
// creates. MoySklad answers a create with a syncId it has seen with the entity already
// created, so a retry after a lost answer makes no second one.
func syncID(kind, idempotencyKey string) string {
	h := sha1.Sum([]byte("hookflow/moysklad/" + kind + "\x00" + idempotencyKey))
	b := h[:16]
	b[6] = (b[6] & 0x0f) | 0x50
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// counterpartyRequest is what findOrCreateCounterparty needs besides the lead.
type counterpartyRequest struct {
	Lead        connectors.Lead
	Dedupe      string
	Country     string // the connection's default_country, to compare phones
	CompanyType string
	Description string
	Tags        []string
	SyncID      string
}

// counterpartyResult is the counterparty found or created.
type counterpartyResult struct {
	Entity  map[string]any
	Created bool
}

// findOrCreateCounterparty searches by the dedupe mode's email and phone and reuses the
// first match, or creates the counterparty with the given syncId.
func (a *api) findOrCreateCounterparty(ctx context.Context, r counterpartyRequest) (counterpartyResult, error) {
	email, phone := r.Lead.SearchBy(r.Dedupe)
	if email != "" {
		found, err := a.findCounterparty(ctx, "email="+filterValue(email), func(row map[string]any) bool {
			return connectors.NormalizeEmail(str(row["email"])) == email
		})
		if err != nil {
			return counterpartyResult{}, fmt.Errorf("find counterparty by email: %w", err)
		}
		if found != nil {
			return counterpartyResult{Entity: found}, nil
		}
	}
	if phone != "" {
		// Phones are stored as typed: look for the last ten digits, then compare E.164.
		digits := strings.TrimPrefix(phone, "+")
		if len(digits) > 10 {
			digits = digits[len(digits)-10:]
		}
		same := func(row map[string]any) bool {
			p, err := connectors.NormalizePhone(str(row["phone"]), r.Country)
			return err == nil && p == phone
		}
		// Separators break a substring match, so the usual ways of typing the number are
		// tried as well ("=" repeated on one field is OR).
		for _, filter := range []string{"phone~" + digits, phoneFormats(phone)} {
			if filter == "" {
				continue
			}
			found, err := a.findCounterparty(ctx, filter, same)
			if err != nil {
				return counterpartyResult{}, fmt.Errorf("find counterparty by phone: %w", err)
			}
			if found != nil {
				return counterpartyResult{Entity: found}, nil
			}
		}
	}
	name := r.Lead.Name
	if name == "" {
		name = firstNonEmpty(r.Lead.Email, r.Lead.Phone)
	}
	if name == "" {
		return counterpartyResult{}, connectors.Permanent(fmt.Errorf("a counterparty needs a name, an email or a phone"))
	}
	body := map[string]any{"name": name, "syncId": r.SyncID}
	if r.CompanyType != "" {
		body["companyType"] = r.CompanyType
	}
	if r.CompanyType == "individual" {
		if r.Lead.FirstName != "" {
			body["legalFirstName"] = r.Lead.FirstName
		}
		if r.Lead.LastName != "" {
			body["legalLastName"] = r.Lead.LastName
		}
	}
	if r.Lead.Email != "" {
		body["email"] = r.Lead.Email
	}
	if r.Lead.Phone != "" {
		body["phone"] = r.Lead.Phone
	}
	if d := describe(r.Description, r.Lead.UTM); d != "" {
		body["description"] = d
	}
	if len(r.Tags) > 0 {
		body["tags"] = r.Tags
	}
	var created map[string]any
	if err := a.do(ctx, http.MethodPost, a.url("entity/counterparty"), body, &created); err != nil {
		return counterpartyResult{}, fmt.Errorf("create counterparty: %w", err)
	}
	return counterpartyResult{Entity: created, Created: true}, nil
}

// findCounterparty returns the first counterparty the filter finds that match accepts,
// oldest first, or nil. One page of 100 is enough for a dedupe search.
func (a *api) findCounterparty(ctx context.Context, filter string, match func(map[string]any) bool) (map[string]any, error) {
	q := url.Values{"filter": {filter}, "limit": {"100"}, "order": {"created,asc"}}
	var list listResponse
	if err := a.get(ctx, "entity/counterparty?"+q.Encode(), &list); err != nil {
		return nil, err
	}
	for _, row := range list.Rows {
		if match(row) {
			return row, nil
		}
	}
	return nil, nil
}

// describe appends the lead's UTM fields to a description: a counterparty has no UTM
// fields of its own, and a manager reading the card should see where the lead came from.
func describe(description string, utm map[string]string) string {
	lines := []string{}
	if strings.TrimSpace(description) != "" {
		lines = append(lines, strings.TrimSpace(description))
	}
	keys := make([]string, 0, len(utm))
	for k := range utm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lines = append(lines, k+": "+utm[k])
	}
	return strings.Join(lines, "\n")
}

// entityOutput is the part of an entity every action returns: its id and href.
func entityOutput(e map[string]any) (id, href string) {
	id = str(e["id"])
	if m, ok := e["meta"].(map[string]any); ok {
		href = str(m["href"])
	}
	return id, href
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// phoneFormats is a filter matching the ways a Russian or Kazakh number (+7 and ten
// digits) is usually typed into MoySklad by hand, or "" for other numbers.
func phoneFormats(e164 string) string {
	if len(e164) != 12 || !strings.HasPrefix(e164, "+7") {
		return ""
	}
	n := e164[2:]
	a, b, c, d := n[0:3], n[3:6], n[6:8], n[8:10]
	var conds []string
	for _, cc := range []string{"+7", "8", "7"} {
		for _, f := range []string{
			cc + " (" + a + ") " + b + "-" + c + "-" + d,
			cc + "(" + a + ")" + b + "-" + c + "-" + d,
			cc + " " + a + " " + b + "-" + c + "-" + d,
			cc + " " + a + " " + b + " " + c + " " + d,
			cc + "-" + a + "-" + b + "-" + c + "-" + d,
			cc + " (" + a + ") " + b + " " + c + " " + d,
		} {
			conds = append(conds, "phone="+filterValue(f))
		}
	}
	return strings.Join(conds, ";")
}
