// Package pipedrive is the Pipedrive CRM connector: pipedrive.create_person finds or
// creates a person from a lead's details, pipedrive.create_lead adds a lead to the Leads
// Inbox, pipedrive.create_deal adds a deal, and the pipedrive.new_deals poll trigger
// starts a run for each new deal.
//
// Requests carry the API token in the x-api-token header, never in the query string, and
// go through an httpclient.Client that knows the token as a secret, so it is masked in
// logs and errors.
//
// Pipedrive has no idempotency key. A retry after an unknown outcome (the connection
// dropped after the request was sent) must not create a second record, so on attempts
// after the first the actions look for what the lost attempt may have made: leads and
// deals carry a marker derived from the step's idempotency key in origin_id (a field
// Pipedrive lets API clients set on creation and never changes), persons are found by
// the dedupe search.
//
// It registers itself from init; binaries pick it up by importing connectors/all.
package pipedrive

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
	connAPIToken = "api_token"
	connDomain   = "domain"
	connBaseURL  = "base_url"
)

// domainPattern is a company domain, the "mycompany" of mycompany.pipedrive.com. Checking
// it keeps the token from being sent to another host.
var domainPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// client is shared by every call so connections to Pipedrive are reused.
var client = httpclient.New(httpclient.Options{})

// connector is the pipedrive connector as registered in connectors.Default.
var connector = &connectors.Connector{
	Name:  "pipedrive",
	Title: "Pipedrive",
	Description: "Creates persons, leads and deals in Pipedrive and polls for new deals, through Pipedrive's REST API " +
		"(v1, and v2 for listing deals). Persons are looked up by email and phone before one is created. Pipedrive " +
		"answers too many requests (its limit is per token in a 2-second window) with 429 and Retry-After; the step " +
		"is retried after that wait.",
	Connection: []connectors.Field{
		{Name: connAPIToken, Type: connectors.TypeString, Title: "API token", Required: true, Secret: true,
			Description: "Your personal API token: Pipedrive → Settings → Personal preferences → API. It is sent in " +
				"the x-api-token header; records are created on behalf of its user.",
			Examples: []any{"0123456789abcdef0123456789abcdef01234567"}},
		{Name: connDomain, Type: connectors.TypeString, Title: "Company domain", Endpoint: true,
			Description: "Your company's Pipedrive domain, the part before .pipedrive.com in the address bar " +
				"(mycompany for https://mycompany.pipedrive.com). Set this or base_url.",
			Examples: []any{"mycompany"}},
		{Name: connBaseURL, Type: connectors.TypeString, Title: "API address", Endpoint: true,
			Description: "Full address of the API, without /v1 or /api/v2; when set it is used instead of the " +
				"company domain: for a proxy or a local fake in tests.",
			Examples: []any{"https://mycompany.pipedrive.com", "http://localhost:8082"}},
		connectors.DefaultCountryField,
	},
	ConnectionRequired: true,
	Actions:            []*connectors.ActionDef{createPersonAction, createLeadAction, createDealAction},
	Pollers:            []*connectors.PollerDef{newDealsPoller},
	ValidateConnection: validateConnection,
	TestConnection:     testConnection,
}

func init() {
	connectors.MustRegister(connector)
}

// validateConnection checks what the field specs cannot: a token, and a domain or a
// base_url that says where to send it. Its errors never quote the token.
func validateConnection(config map[string]any) error {
	var errs []error
	if token, _ := config[connAPIToken].(string); token == "" {
		errs = append(errs, errors.New("api_token is required"))
	}
	domain, _ := config[connDomain].(string)
	base, _ := config[connBaseURL].(string)
	switch {
	case domain == "" && base == "":
		errs = append(errs, errors.New("set domain (mycompany for mycompany.pipedrive.com) or base_url"))
	case base != "":
		if _, err := httpclient.ParseBaseURL(base); err != nil {
			errs = append(errs, err)
		}
	case !domainPattern.MatchString(domain):
		errs = append(errs, fmt.Errorf("domain %q must be the company domain only, such as mycompany for https://mycompany.pipedrive.com", domain))
	}
	if _, err := connectors.CallingCode(stringOf(config[connectors.DefaultCountryField.Name])); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid pipedrive connection: %w", err)
	}
	return nil
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// testConnection checks the token with GET /v1/users/me, which changes nothing.
func testConnection(ctx context.Context, conn *connectors.Connection) error {
	api, err := newAPI(conn, nil)
	if err != nil {
		return err
	}
	var me struct {
		ID int64 `json:"id"`
	}
	if err := api.get(ctx, "/v1/users/me", nil, &me); err != nil {
		return fmt.Errorf("check pipedrive connection %s: %w", conn.Name, err)
	}
	return nil
}
