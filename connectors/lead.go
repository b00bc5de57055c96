package connectors

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// A lead is a person who left their details on a form, in an ad or in a messenger. Every
// CRM action takes the same lead inputs and cleans them up the same way, so "the same
// person" means the same thing whichever CRM a workflow writes to.

// Lead holds a person's details, cleaned up for a CRM.
type Lead struct {
	// Name is the full name as given; FirstName and LastName are split from it unless they
	// were given themselves.
	Name      string
	FirstName string
	LastName  string
	// Email is trimmed and lower-cased.
	Email string
	// Phone is in E.164 (+79991234567).
	Phone string
	// UTM holds the utm_* fields that were given, by their names.
	UTM map[string]string
}

// UTMFields are the UTM parameters carried to a CRM's fields where it has them.
var UTMFields = []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// Dedupe modes of CRM create actions: how the CRM is searched for the person before a
// new contact is created.
const (
	DedupeNone         = "none"
	DedupeEmail        = "email"
	DedupePhone        = "phone"
	DedupeEmailOrPhone = "email_or_phone"
)

// DedupeModes lists the dedupe modes, for field enums.
var DedupeModes = []string{DedupeNone, DedupeEmail, DedupePhone, DedupeEmailOrPhone}

// Lead input names, shared by every CRM action.
const (
	LeadName      = "name"
	LeadFirstName = "first_name"
	LeadLastName  = "last_name"
	LeadEmail     = "email"
	LeadPhone     = "phone"
	LeadDedupe    = "dedupe"
)

// DefaultCountryField is the connection setting every CRM connector takes: the country of
// phone numbers written without one.
var DefaultCountryField = Field{Name: "default_country", Type: TypeString, Title: "Default country",
	Description: "Country calling code (+7, +1, +44) or ISO code (RU, US, GB) of phone numbers written " +
		"without one, as site forms collect them: with +7, 8 (999) 123-45-67 becomes +79991234567.",
	Default: "+7", Examples: []any{"+7", "KZ", "+49"}}

// LeadFields returns the lead inputs of a CRM action: who the person is, and how to look
// for them before creating a contact. dedupeDefault is the default mode (DedupeNone for a
// CRM that cannot search).
func LeadFields(dedupeDefault string) []Field {
	fields := []Field{
		{Name: LeadName, Type: TypeString, Title: "Full name", Description: "The person's name as the form gave it; split into first and last name where the CRM wants both.",
			Examples: []any{"{{ trigger.body.Name }}"}},
		{Name: LeadFirstName, Type: TypeString, Title: "First name", Description: "Overrides the first name split from the full name."},
		{Name: LeadLastName, Type: TypeString, Title: "Last name", Description: "Overrides the last name split from the full name."},
		{Name: LeadEmail, Type: TypeString, Title: "Email", Description: "Trimmed and lower-cased before it is sent or searched for.",
			Examples: []any{"{{ trigger.body.Email }}"}},
		{Name: LeadPhone, Type: TypeString, Title: "Phone", Description: "Normalised to E.164 with the connection's default country: 8 (999) 123-45-67 becomes +79991234567.",
			Examples: []any{"{{ trigger.body.Phone }}"}},
	}
	for _, u := range UTMFields {
		fields = append(fields, Field{Name: u, Type: TypeString, Title: strings.ToUpper(u[:3]) + " " + u[4:],
			Description: "Carried to the CRM's own UTM field where it has one."})
	}
	fields = append(fields, Field{Name: LeadDedupe, Type: TypeString, Title: "Find the contact first",
		Description: "Search the CRM for the person before creating a contact, and reuse the match: by email, by phone, " +
			"by either, or not at all. The output's created says which happened.",
		Enum: DedupeModes, Default: dedupeDefault})
	return fields
}

// ParseLead reads and cleans the lead inputs of a call. defaultCountry is the connection's
// default_country ("" means +7). A phone that cannot be made E.164 is a permanent error:
// retrying would not fix it.
func ParseLead(input map[string]any, defaultCountry string) (Lead, error) {
	text := func(name string) string { return strings.TrimSpace(leadText(input[name])) }
	l := Lead{Name: collapseSpaces(text(LeadName)), FirstName: text(LeadFirstName), LastName: text(LeadLastName),
		Email: NormalizeEmail(text(LeadEmail))}
	if l.FirstName == "" && l.LastName == "" {
		l.FirstName, l.LastName = SplitName(l.Name)
	}
	if l.Name == "" {
		l.Name = strings.TrimSpace(l.FirstName + " " + l.LastName)
	}
	if raw := text(LeadPhone); raw != "" {
		p, err := NormalizePhone(raw, defaultCountry)
		if err != nil {
			return Lead{}, Permanent(fmt.Errorf("phone: %w", err))
		}
		l.Phone = p
	}
	for _, u := range UTMFields {
		if v := text(u); v != "" {
			if l.UTM == nil {
				l.UTM = map[string]string{}
			}
			l.UTM[u] = v
		}
	}
	return l, nil
}

// DedupeMode reads a call's dedupe input, def when it is absent.
func DedupeMode(input map[string]any, def string) (string, error) {
	v := strings.TrimSpace(leadText(input[LeadDedupe]))
	if v == "" {
		return def, nil
	}
	for _, m := range DedupeModes {
		if v == m {
			return v, nil
		}
	}
	return "", Permanent(fmt.Errorf("dedupe: %q is not one of %s", v, strings.Join(DedupeModes, ", ")))
}

// SearchBy returns what a dedupe mode searches the CRM by for this lead: the email, the
// phone, both (email first), or nothing.
func (l Lead) SearchBy(mode string) (email, phone string) {
	switch mode {
	case DedupeEmail:
		return l.Email, ""
	case DedupePhone:
		return "", l.Phone
	case DedupeEmailOrPhone:
		return l.Email, l.Phone
	}
	return "", ""
}

// NormalizeEmail trims an email address and lower-cases it. Addresses compare case-blind
// in practice, and a CRM search for "Ann@Example.com" must find "ann@example.com".
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// SplitName splits a full name into first and last name: the last word is the last name,
// the rest the first name. A single word is a first name.
func SplitName(full string) (first, last string) {
	words := strings.Fields(full)
	switch len(words) {
	case 0:
		return "", ""
	case 1:
		return words[0], ""
	}
	return strings.Join(words[:len(words)-1], " "), words[len(words)-1]
}

// leadText reads an input as text: forms send strings, but a template over a JSON body
// may give a phone as a number.
func leadText(v any) string {
	if s, ok := ScalarText(v); ok {
		return s
	}
	if n, ok := Int64(v); ok {
		return strconv.FormatInt(n, 10)
	}
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return ""
}

func collapseSpaces(s string) string { return strings.Join(strings.Fields(s), " ") }

// countryCodes maps the ISO codes users are most likely to write to calling codes. A
// calling code itself ("+7", "7") is always accepted.
var countryCodes = map[string]string{
	"RU": "7", "KZ": "7", "BY": "375", "UA": "380", "UZ": "998", "KG": "996", "AM": "374", "AZ": "994",
	"GE": "995", "MD": "373", "TJ": "992", "TM": "993", "US": "1", "CA": "1", "GB": "44", "DE": "49",
	"FR": "33", "ES": "34", "IT": "39", "NL": "31", "PL": "48", "TR": "90", "IL": "972", "AE": "971",
	"IN": "91", "CN": "86", "BR": "55", "LV": "371", "LT": "370", "EE": "372", "FI": "358", "RS": "381",
}

// CallingCode turns a default_country setting ("+7", "7", "RU") into a calling code's
// digits; "" means 7.
func CallingCode(country string) (string, error) {
	c := strings.TrimSpace(country)
	if c == "" {
		return "7", nil
	}
	if code, ok := countryCodes[strings.ToUpper(c)]; ok {
		return code, nil
	}
	digits := strings.TrimPrefix(c, "+")
	if digits == "" || len(digits) > 3 || strings.TrimFunc(digits, unicode.IsDigit) != "" || digits[0] == '0' {
		return "", fmt.Errorf("default country %q is neither a calling code such as +7 nor a known ISO code such as RU", country)
	}
	return digits, nil
}

// ErrNotAPhone is returned for text that cannot be a phone number.
var ErrNotAPhone = errors.New("not a phone number")

// NormalizePhone writes a phone number in E.164. A number written with its country (+7,
// 007) keeps it; a number without one takes defaultCountry's calling code, dropping a
// national trunk prefix (8 in Russia and Kazakhstan, 0 in most of Europe). Separators,
// brackets and an extension after the number are ignored.
func NormalizePhone(raw, defaultCountry string) (string, error) {
	cc, err := CallingCode(defaultCountry)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(raw)
	// An extension ("доб. 12", "ext 12", "x12") is no part of the number a CRM matches.
	for _, ext := range []string{"доб", "ext", "x", "#"} {
		if i := strings.Index(strings.ToLower(s), ext); i > 0 {
			s = s[:i]
		}
	}
	international := strings.HasPrefix(s, "+")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' || r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' || r == '/' || r == '\u00a0':
		default:
			return "", fmt.Errorf("%w: %q has %q in it", ErrNotAPhone, raw, r)
		}
	}
	d := b.String()
	switch {
	case international:
	case strings.HasPrefix(d, "00"):
		d = d[2:] // the international prefix of most countries
	case cc == "7" && len(d) == 11 && (d[0] == '8' || d[0] == '7'):
		d = "7" + d[1:] // 8 (999) 123-45-67: the Russian trunk prefix
	case cc == "1" && len(d) == 11 && d[0] == '1':
	case strings.HasPrefix(d, "0"):
		d = cc + strings.TrimLeft(d, "0")
	default:
		d = cc + d
	}
	// E.164 allows 15 digits; no country's numbers have fewer than 8 with the code.
	if len(d) < 8 || len(d) > 15 {
		return "", fmt.Errorf("%w: %q has %d digits with its country code; a phone number has 8 to 15", ErrNotAPhone, raw, len(d))
	}
	return "+" + d, nil
}
