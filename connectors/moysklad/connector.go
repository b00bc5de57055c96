// Package moysklad is the MoySklad (МойСклад) JSON API 1.2 connector:
// moysklad.create_counterparty finds or creates a counterparty from a lead,
// moysklad.create_customer_order creates a customer order (its syncId makes a retry
// return the order already made), moysklad.get reads an entity by its meta.href (what a
// webhook event carries), and a connection can subscribe a workflow's webhook to
// MoySklad's events (entity/webhook).
//
// MoySklad refuses requests without Accept-Encoding: gzip (415), counts requests in a
// 3-second window per user and allows 5 parallel requests per user: the client always
// asks for gzip and decodes it, keeps at most 5 requests in flight per token, waits for the
// window to reset when the last answer said none is left, and turns a 429 into a retry
// after the X-Lognex-Retry-After milliseconds.
//
// It registers itself from init; binaries pick it up by importing connectors/all.
package moysklad

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// Connection field names.
const (
	connToken         = "token"
	connBaseURL       = "base_url"
	connWebhookPrefix = "webhook_prefix"
)

// BaseURLDefault is the JSON API 1.2 address used when a connection sets no base_url.
const BaseURLDefault = "https://api.moysklad.ru/api/remap/1.2"

// client is shared by every call so connections to the API are reused.
var client = httpclient.New(httpclient.Options{})

// connector is the moysklad connector as registered in connectors.Default.
var connector = &connectors.Connector{
	Name:  "moysklad",
	Title: "MoySklad",
	Description: "Creates counterparties and customer orders in MoySklad (МойСклад) and reads its entities, through " +
		"the JSON API 1.2; a connection can subscribe a workflow's webhook to MoySklad's entity events " +
		"(order created, status or price changed). Webhooks: register with POST /api/v1/connections/{name}/webhook " +
		"and {\"workflow_id\": ..., \"options\": {\"entity_type\": \"customerorder\", \"action\": \"CREATE\"}} " +
		"(action CREATE, UPDATE or DELETE; diff_type FIELDS with UPDATE lists updatedFields, to watch state or " +
		"salePrices). MoySklad signs nothing, so give the workflow's webhook the auth " +
		"{\"type\": \"token\", \"query\": \"key\", \"connection\": ...}: the secret is put in the registered URL. " +
		"Answer with {\"mode\": \"custom\", \"status\": 200} (MoySklad counts only 200 and 204 as delivered, not the " +
		"default 202) and set \"dedupe\": \"trigger.query.requestId\": MoySklad retries at once with the same requestId " +
		"in the URL's query. A body {auditContext, events[]} may carry several events, each with only the entity's " +
		"meta.href: read them with a moysklad.get step with \"for_each\": \"trigger.body.events\" and " +
		"\"href\": \"{{ item.meta.href }}\".",
	Connection: []connectors.Field{
		{Name: connToken, Type: connectors.TypeString, Title: "Access token", Required: true, Secret: true,
			Description: "A MoySklad access token (user or solution token), sent as a bearer token. Create it in " +
				"MoySklad under Settings → Users → Access tokens; Hookflow never requests one itself, since " +
				"POST /security/token revokes the user's older tokens."},
		{Name: connBaseURL, Type: connectors.TypeString, Title: "API address", Endpoint: true,
			Description: "Address of the JSON API 1.2. Change it only for a proxy or a local fake in tests; " +
				"moysklad.get reads only hrefs on this address's host.",
			Default: BaseURLDefault, Examples: []any{BaseURLDefault}},
		connectors.DefaultCountryField,
		{Name: connWebhookPrefix, Type: connectors.TypeString, Title: "Hookflow's public address",
			Description: "Your Hookflow's public address (HOOKFLOW_BASE_URL, scheme and host). Writes send it in " +
				"X-Lognex-WebHook-DisableByPrefix, so MoySklad sends no webhook to Hookflow about the changes " +
				"Hookflow's own workflows make and a workflow cannot trigger itself. Leave it empty when workflows " +
				"should see each other's changes.",
			Examples: []any{"https://hooks.example.com"}},
	},
	ConnectionRequired: true,
	Actions:            []*connectors.ActionDef{createCounterpartyAction, createCustomerOrderAction, getAction},
	ValidateConnection: validateConnection,
	TestConnection:     testConnection,
	RegisterWebhook:    registerWebhook,
}

func init() {
	connectors.MustRegister(connector)
}

// validateConnection checks what the field specs cannot: base_url and webhook_prefix are
// absolute http(s) URLs, and default_country is a country. Its errors never quote the
// token.
func validateConnection(config map[string]any) error {
	var errs []error
	if token, ok := config[connToken].(string); ok && strings.TrimSpace(token) != token {
		errs = append(errs, errors.New("token has spaces around it; paste the token alone"))
	}
	if base, ok := config[connBaseURL].(string); ok && base != "" {
		if _, err := httpclient.ParseBaseURL(base); err != nil {
			errs = append(errs, err)
		}
	}
	if prefix, ok := config[connWebhookPrefix].(string); ok && prefix != "" {
		u, err := url.Parse(prefix)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("webhook_prefix %q must be an absolute http or https URL such as https://hooks.example.com", httpclient.RedactURL(prefix)))
		}
	}
	if c, ok := config[connectors.DefaultCountryField.Name].(string); ok {
		if _, err := connectors.CallingCode(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid moysklad connection: %w", err)
	}
	return nil
}

// testConnection reads one organization: a cheap authenticated GET that changes nothing
// and that every account can answer.
func testConnection(ctx context.Context, conn *connectors.Connection) error {
	api, err := newAPI(conn, nil)
	if err != nil {
		return err
	}
	var list listResponse
	if err := api.get(ctx, "entity/organization?limit=1", &list); err != nil {
		return fmt.Errorf("check moysklad connection %s: %w", conn.Name, err)
	}
	return nil
}
