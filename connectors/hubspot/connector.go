// Package hubspot is the HubSpot CRM v3 connector: hubspot.upsert_contact creates or
// updates a contact from a lead, hubspot.create_deal creates a deal associated with a
// contact, and the hubspot.new_contacts poll trigger starts a run for each new contact.
//
// HubSpot has no idempotency key. Contacts are unique by email, and HubSpot says so
// itself: creating a contact whose email exists answers 409 with the existing id, which
// upsert_contact turns into an update. Deals are guarded by a search before a retried
// create (see create_deal).
//
// It registers itself from init; binaries pick it up by importing connectors/all.
package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// Connection field names.
const (
	connToken          = "token"
	connBaseURL        = "base_url"
	connDefaultCountry = "default_country"
	connKeyProperty    = "idempotency_property"
)

// BaseURLDefault is HubSpot's API server, used when a connection sets no base_url.
const BaseURLDefault = "https://api.hubapi.com"

// propertyName is the shape of a HubSpot property's internal name.
var propertyName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// client is shared by every call so connections to the API are reused.
var client = httpclient.New(httpclient.Options{})

// connector is the hubspot connector as registered in connectors.Default.
var connector = &connectors.Connector{
	Name:  "hubspot",
	Title: "HubSpot CRM",
	Description: "Creates and updates contacts and deals in HubSpot CRM (API v3) and polls for new contacts. " +
		"Authenticates with a private app's access token: in HubSpot, Settings → Integrations → Private apps, " +
		"create an app with the crm.objects.contacts.read/write and crm.objects.deals.read/write scopes.",
	Connection: []connectors.Field{
		{Name: connToken, Type: connectors.TypeString, Title: "Private app token", Required: true, Secret: true,
			Description: "The private app's access token (pat-…), sent as a bearer token. Hookflow masks it in logs and errors.",
			Examples:    []any{"pat-eu1-00000000-0000-0000-0000-000000000000"}},
		{Name: connBaseURL, Type: connectors.TypeString, Title: "API server", Endpoint: true, Default: BaseURLDefault,
			Description: "Address of HubSpot's API. Change it only for a proxy or a local fake in tests.",
			Examples:    []any{BaseURLDefault}},
		connectors.DefaultCountryField,
		{Name: connKeyProperty, Type: connectors.TypeString, Title: "Deal idempotency property",
			Description: "Internal name of a single-line text deal property you created in HubSpot to hold each step's " +
				"idempotency key (for example hookflow_key). hubspot.create_deal then writes the key into it, and a retry " +
				"after an unknown outcome finds the deal by it exactly. Unset: a retry looks for a deal with the same name, " +
				"pipeline and amount created since shortly before the step began.",
			Examples: []any{"hookflow_key"}},
	},
	ConnectionRequired: true,
	Actions:            []*connectors.ActionDef{upsertContactAction, createDealAction},
	Pollers:            []*connectors.PollerDef{newContactsPoller},
	ValidateConnection: validateConnection,
	TestConnection:     testConnection,
}

func init() {
	connectors.MustRegister(connector)
}

// validateConnection checks what the field specs cannot. Its errors never quote the token.
func validateConnection(config map[string]any) error {
	var errs []error
	switch token := config[connToken].(type) {
	case nil:
		errs = append(errs, errors.New("token is required"))
	case string:
		// A space or a line break would break the Authorization header or smuggle another.
		if strings.TrimSpace(token) == "" || strings.ContainsAny(token, " \t\r\n") {
			errs = append(errs, errors.New("token must be the private app's access token, without spaces"))
		}
	default:
		errs = append(errs, fmt.Errorf("token must be a string, got %s", connectors.JSONTypeOf(token)))
	}
	if base, ok := config[connBaseURL].(string); ok && base != "" {
		if _, err := httpclient.ParseBaseURL(base); err != nil {
			errs = append(errs, err)
		}
	}
	if c, ok := config[connDefaultCountry].(string); ok {
		if _, err := connectors.CallingCode(c); err != nil {
			errs = append(errs, err)
		}
	}
	if p, ok := config[connKeyProperty].(string); ok && p != "" && !propertyName.MatchString(p) {
		errs = append(errs, fmt.Errorf("idempotency_property %q must be a property's internal name: lower-case letters, digits and _", p))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid hubspot connection: %w", err)
	}
	return nil
}

// testConnection reads one contact: cheap, changes nothing, and needs the token and the
// contacts read scope the actions need anyway.
func testConnection(ctx context.Context, conn *connectors.Connection) error {
	api, err := newAPI(conn, nil)
	if err != nil {
		return err
	}
	if err := api.do(ctx, "read contacts", http.MethodGet, "/crm/v3/objects/contacts?limit=1", nil, nil); err != nil {
		return fmt.Errorf("check hubspot connection %s: %w", conn.Name, err)
	}
	return nil
}
