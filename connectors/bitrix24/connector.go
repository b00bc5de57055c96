// Package bitrix24 is the Bitrix24 REST connector: bitrix24.create_lead adds a lead
// (finding or creating its contact first), bitrix24.add_comment writes to a record's
// timeline, bitrix24.find_contact searches by phone or email, and the bitrix24.new_leads
// poll trigger picks up new leads.
//
// A connection is an inbound webhook of the portal, https://<portal>/rest/<user>/<code>/:
// the code in its path is the credential, so the whole URL is a secret and every
// request goes through an httpclient.Client that masks it in logs and errors.
//
// It registers itself from init; binaries pick it up by importing connectors/all.
package bitrix24

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// Connection field names.
const (
	connWebhookURL = "webhook_url"
)

// client is shared by every call so connections to the portal are reused; each call
// works on a cheap copy that knows its secrets and logger.
var client = httpclient.New(httpclient.Options{})

// connector is the bitrix24 connector as registered in connectors.Default.
var connector = &connectors.Connector{
	Name:  "bitrix24",
	Title: "Bitrix24",
	Description: "Creates leads, finds contacts and writes timeline comments in a Bitrix24 portal through its REST API, " +
		"and polls for new leads. Connect it with an inbound webhook (Developer resources → Other → Inbound webhook) " +
		"whose permissions include CRM (crm). Bitrix24's outgoing event handlers (ONCRMLEADADD…) can start a workflow " +
		"through a webhook trigger with the bitrix24 auth preset, which checks their application token.",
	Connection: []connectors.Field{
		{Name: connWebhookURL, Type: connectors.TypeString, Title: "Inbound webhook URL", Required: true, Secret: true,
			Description: "The REST call address Bitrix24 shows for the inbound webhook, `https://<portal>/rest/<user id>/<code>/`. " +
				"The code in it is the credential: the URL is stored encrypted and masked in logs and errors. A URL " +
				"copied with a method at its end (`…/profile.json`) is accepted too.",
			Examples: []any{"https://mycompany.bitrix24.ru/rest/1/abcdef0123456789/"}},
		connectors.DefaultCountryField,
	},
	ConnectionRequired: true,
	Actions:            []*connectors.ActionDef{createLeadAction, addCommentAction, findContactAction},
	Pollers:            []*connectors.PollerDef{newLeadsPoller},
	ValidateConnection: validateConnection,
	TestConnection:     testConnection,
}

func init() {
	connectors.MustRegister(connector)
}

// webhookPath is /rest/<user id>/<code>, optionally followed by a method name.
var webhookPath = regexp.MustCompile(`^(.*/rest/[0-9]+/[A-Za-z0-9_]+)(?:/[A-Za-z0-9_.]*)?/?$`)

// parseWebhookURL returns the webhook's base URL ending in "/" and the code in it. Its
// errors never quote the URL: it is the credential.
func parseWebhookURL(raw string) (base, code string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", errors.New("webhook_url must be an absolute https URL, https://<portal>/rest/<user id>/<code>/")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", errors.New("webhook_url must not have a query, a fragment or a user name")
	}
	m := webhookPath.FindStringSubmatch(u.Path)
	if m == nil {
		return "", "", errors.New("webhook_url does not look like an inbound webhook, https://<portal>/rest/<user id>/<code>/; " +
			"copy it from the webhook's page in Bitrix24")
	}
	u.Path = m[1] + "/"
	code = m[1][strings.LastIndex(m[1], "/")+1:]
	return u.String(), code, nil
}

// validateConnection checks what the field specs cannot: the webhook URL's shape and the
// default country.
func validateConnection(config map[string]any) error {
	var errs []error
	switch v := config[connWebhookURL].(type) {
	case nil:
		errs = append(errs, errors.New("webhook_url is required"))
	case string:
		if _, _, err := parseWebhookURL(v); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("webhook_url must be a string, got %s", connectors.JSONTypeOf(v)))
	}
	if c, ok := config[connectors.DefaultCountryField.Name].(string); ok {
		if _, err := connectors.CallingCode(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid bitrix24 connection: %w", err)
	}
	return nil
}

// testConnection calls profile, which every webhook may call and which changes nothing.
func testConnection(ctx context.Context, conn *connectors.Connection) error {
	api, err := newAPI(conn, nil)
	if err != nil {
		return err
	}
	if _, err := api.call(ctx, "profile", struct{}{}); err != nil {
		return fmt.Errorf("check bitrix24 connection %s: %w", conn.Name, err)
	}
	return nil
}
