// Package amocrm is the amoCRM (Kommo) API v4 connector: amocrm.create_lead creates a
// lead with its contact (finding the contact first, and never twice on a retry),
// amocrm.add_note adds a note to a lead or a contact, amocrm.find_contact searches
// contacts, and the amocrm.new_leads poll trigger starts a run for each new lead.
//
// Every request goes through a per-token limiter that keeps to amoCRM's 7 requests per
// second, since one action makes several requests and the engine's rate_limit counts
// calls, not requests.
//
// It registers itself from init; binaries pick it up by importing connectors/all.
package amocrm

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// Connection field names.
const (
	connSubdomain = "subdomain"
	connBaseURL   = "base_url"
	connToken     = "token"
	connCountry   = "default_country"
)

// subdomainPattern is an amoCRM account's subdomain; checking it also keeps the value
// from changing the host the token is sent to.
var subdomainPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// client is shared by every call so connections to amoCRM are reused.
var client = httpclient.New(httpclient.Options{})

// connector is the amocrm connector as registered in connectors.Default.
var connector = &connectors.Connector{
	Name:  "amocrm",
	Title: "amoCRM (Kommo)",
	Description: "Creates leads with their contacts, adds notes and finds contacts in amoCRM or Kommo through " +
		"API v4, and polls for new leads. Create a private integration in the account's settings and copy its " +
		"long-lived token. Requests are kept to amoCRM's 7 per second per token.",
	Connection: []connectors.Field{
		{Name: connSubdomain, Type: connectors.TypeString, Title: "Subdomain", Endpoint: true,
			Description: "The account's subdomain on amocrm.ru: mycompany for https://mycompany.amocrm.ru. Set it or base_url.",
			Examples:    []any{"mycompany"}},
		{Name: connBaseURL, Type: connectors.TypeString, Title: "Account address", Endpoint: true,
			Description: "The account's full address, for kommo.com and amocrm.com accounts (https://mycompany.kommo.com), " +
				"a proxy or a local fake. It wins over subdomain.",
			Examples: []any{"https://mycompany.kommo.com"}},
		{Name: connToken, Type: connectors.TypeString, Title: "Long-lived token", Required: true, Secret: true,
			Description: "The long-lived token of a private integration (Settings → Integrations), sent as a bearer token. " +
				"An OAuth access token works too until it expires; Hookflow does not refresh it."},
		connectors.DefaultCountryField,
	},
	ConnectionRequired: true,
	Actions:            []*connectors.ActionDef{createLeadAction, addNoteAction, findContactAction},
	Pollers:            []*connectors.PollerDef{newLeadsPoller},
	ValidateConnection: validateConnection,
	TestConnection:     testConnection,
}

func init() {
	connectors.MustRegister(connector)
}

// validateConnection checks that the connection names the account, one way or the
// other, and the default country. Its errors never quote the token.
func validateConnection(config map[string]any) error {
	var errs []error
	sub, _ := config[connSubdomain].(string)
	base, _ := config[connBaseURL].(string)
	switch {
	case base != "":
		if _, err := httpclient.ParseBaseURL(base); err != nil {
			errs = append(errs, err)
		}
	case sub != "":
		if !subdomainPattern.MatchString(sub) {
			errs = append(errs, fmt.Errorf("subdomain %q must be the account's subdomain alone, such as mycompany for mycompany.amocrm.ru", sub))
		}
	default:
		errs = append(errs, errors.New("set subdomain (mycompany for mycompany.amocrm.ru) or base_url (https://mycompany.kommo.com)"))
	}
	if tok, ok := config[connToken]; ok {
		if s, isString := tok.(string); !isString || s == "" {
			errs = append(errs, errors.New("token must be a non-empty string"))
		}
	}
	if c, ok := config[connCountry].(string); ok {
		if _, err := connectors.CallingCode(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid amocrm connection: %w", err)
	}
	return nil
}

// testConnection reads the account, which needs only a valid token and changes nothing.
func testConnection(ctx context.Context, conn *connectors.Connection) error {
	api, err := newAPI(conn, nil)
	if err != nil {
		return err
	}
	var account struct {
		ID int64 `json:"id"`
	}
	if _, err := api.get(ctx, "/api/v4/account", nil, &account); err != nil {
		return fmt.Errorf("check amocrm connection %s: %w", conn.Name, err)
	}
	return nil
}
