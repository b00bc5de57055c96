// Package acmego is Acme CRM, a made-up REST service, as a Go connector: the worked
// example of docs/integrators.md, doing in Go what examples/acme/acme.yaml does as a
// connector file. Like every connector package it imports only the SDK and the shared
// HTTP client, and registers itself from init.
package acmego

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// Connection settings.
const (
	connAPIKey  = "api_key"
	connBaseURL = "base_url"
)

// BaseURLDefault is Acme's API, used when a connection sets no base_url.
const BaseURLDefault = "https://api.acme.example/v1"

const (
	// pollOverlap is taken off the cursor so that contacts written late are still found;
	// the engine drops the ones it has seen.
	pollOverlap = 30 * time.Second
	// maxPages bounds one poll; the next poll goes on from the cursor.
	maxPages = 20
)

// client is shared by every call so that connections to Acme are reused.
var client = httpclient.New(httpclient.Options{Timeout: 20 * time.Second})

// Connector is the acme connector as init registers it.
var Connector = &connectors.Connector{
	Name:  "acme",
	Title: "Acme CRM",
	Description: "Creates contacts in Acme CRM and polls it for contacts added or changed. " +
		"Authorizes with an API key from Acme's Settings → API page.",
	Connection: []connectors.Field{
		{Name: connAPIKey, Type: connectors.TypeString, Title: "API key", Required: true, Secret: true,
			Description: "The key from Acme's Settings → API page, sent in the X-Acme-Key header."},
		{Name: connBaseURL, Type: connectors.TypeString, Title: "API server", Default: BaseURLDefault, Endpoint: true,
			Description: "Acme's API address; change it for a sandbox or a local fake."},
	},
	ConnectionRequired: true,
	Actions:            []*connectors.ActionDef{createContact},
	Pollers:            []*connectors.PollerDef{newContacts},
	TestConnection:     testConnection,
}

func init() { connectors.MustRegister(Connector) }

// testConnection asks Acme who the key belongs to.
func testConnection(ctx context.Context, conn *connectors.Connection) error {
	if _, err := send(ctx, client, conn, http.MethodGet, endpoint(conn, "/me"), nil, nil); err != nil {
		return fmt.Errorf("test acme connection %s: %w", conn.Name, err)
	}
	return nil
}

var createContact = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:        "create_contact",
		Title:       "Create a contact",
		Description: "Creates a contact and returns its ID.",
		Idempotent:  true,
		Inputs: []connectors.Field{
			{Name: "email", Type: connectors.TypeString, Title: "Email", Required: true,
				Description: "The contact's email address."},
			{Name: "name", Type: connectors.TypeString, Title: "Name",
				Description: "The contact's full name."},
			{Name: "tags", Type: connectors.TypeArray, Title: "Tags", Description: "Tags to put on the contact.",
				Items: &connectors.Field{Name: "tag", Type: connectors.TypeString, Title: "Tag", Description: "One tag."}},
		},
		Outputs: []connectors.Field{
			{Name: "id", Type: connectors.TypeInteger, Title: "Contact ID", Description: "The new contact's ID."},
		},
	},
	New: func() connectors.Action { return &createContactAction{} },
}

var _ connectors.Action = (*createContactAction)(nil)

type createContactAction struct{}

// Run creates the contact.
func (a *createContactAction) Run(ctx context.Context, call *connectors.Call) (any, error) {
	var in struct {
		Email string   `json:"email"`
		Name  string   `json:"name,omitempty"`
		Tags  []string `json:"tags,omitempty"`
	}
	if err := call.Decode(&in); err != nil {
		return nil, err // already permanent
	}
	if call.Connection == nil {
		return nil, connectors.Permanent(errors.New("acme.create_contact needs a connection"))
	}
	// The same key on every retry of the step: Acme creates the contact once.
	header := http.Header{"Idempotency-Key": {call.IdempotencyKey}}
	resp, err := send(ctx, client.ForCall(call), call.Connection, http.MethodPost, endpoint(call.Connection, "/contacts"), in, header)
	if err != nil {
		return nil, fmt.Errorf("create acme contact for step %s: %w", call.StepID, err)
	}
	var out struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return nil, connectors.Permanent(fmt.Errorf("read the acme contact of step %s: %w", call.StepID, err))
	}
	return map[string]any{"id": out.ID}, nil
}

var newContacts = &connectors.PollerDef{
	PollerSpec: connectors.PollerSpec{
		Name:        "new_contacts",
		Title:       "Contact added or changed",
		Description: "Starts a run for each contact added or changed, oldest first.",
		Inputs:      []connectors.Field{},
		Item: []connectors.Field{
			{Name: "id", Type: connectors.TypeInteger, Title: "ID", Description: "The contact's ID."},
			{Name: "email", Type: connectors.TypeString, Title: "Email", Description: "The contact's email address."},
			{Name: "name", Type: connectors.TypeString, Title: "Name", Description: "The contact's full name."},
			{Name: "updated_at", Type: connectors.TypeString, Title: "Updated at", Description: "When it last changed (RFC 3339)."},
		},
		// Each change of a contact is a new item.
		DefaultKey: `string(item.id) + "@" + item.updated_at`,
	},
	New: func() connectors.Poller { return &contactsPoller{} },
}

var _ connectors.Poller = (*contactsPoller)(nil)

type contactsPoller struct{}

// Poll lists the contacts updated since the cursor (minus the overlap), oldest first,
// following next_url, and returns the newest updated_at as the next cursor. The first
// poll starts from now: no backfill.
func (p *contactsPoller) Poll(ctx context.Context, call *connectors.PollCall) (*connectors.PollResult, error) {
	if call.Connection == nil {
		return nil, connectors.Permanent(errors.New("acme.new_contacts needs a connection"))
	}
	newest := time.Now().UTC()
	if s, ok := call.Cursor.(string); ok {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, connectors.Permanent(fmt.Errorf("read the saved acme cursor %q: %w", s, err))
		}
		newest = t
	}
	query := url.Values{"updated_after": {newest.Add(-pollOverlap).Format(time.RFC3339)}, "sort": {"updated_at"}, "limit": {"50"}}
	next := endpoint(call.Connection, "/contacts") + "?" + query.Encode()
	c := client.WithLogger(call.Logger)
	seen := map[string]bool{}
	var items []any
	for page := 0; next != "" && page < maxPages; page++ {
		// A service that hands back a page already read would make the poll loop forever.
		if seen[next] {
			return nil, fmt.Errorf("poll acme contacts: next_url repeats page %d's address", page)
		}
		seen[next] = true
		if err := sameOrigin(call.Connection, next); err != nil {
			return nil, connectors.Permanent(fmt.Errorf("poll acme contacts: %w", err))
		}
		resp, err := send(ctx, c, call.Connection, http.MethodGet, next, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("poll acme contacts: %w", err)
		}
		decoded, err := connectors.DecodeJSON(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("poll acme contacts: read page %d: %w", page+1, err)
		}
		body, _ := decoded.(map[string]any)
		data, _ := body["data"].([]any)
		for _, item := range data {
			if contact, ok := item.(map[string]any); ok {
				if t, err := time.Parse(time.RFC3339, fmt.Sprint(contact["updated_at"])); err == nil && t.After(newest) {
					newest = t
				}
			}
			items = append(items, item)
		}
		next, _ = body["next_url"].(string)
	}
	return &connectors.PollResult{Items: items, Cursor: newest.Format(time.RFC3339)}, nil
}

// endpoint joins path to the connection's base URL.
func endpoint(conn *connectors.Connection, path string) string {
	base := conn.String(connBaseURL)
	if base == "" {
		base = BaseURLDefault
	}
	return strings.TrimRight(base, "/") + path
}

// sameOrigin refuses a next_url on another server than the base URL: the API key goes
// with every request, and it must only ever go to Acme.
func sameOrigin(conn *connectors.Connection, raw string) error {
	base, err := url.Parse(endpoint(conn, ""))
	if err != nil {
		return fmt.Errorf("parse base_url: %w", err)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != base.Scheme || u.Host != base.Host {
		return fmt.Errorf("next_url %q is not on %s://%s", httpclient.RedactURL(raw), base.Scheme, base.Host)
	}
	return nil
}

// send makes one request to Acme with the connection's key and returns the response when
// it is a 2xx, or an error of the SDK's kinds carrying Acme's own message.
func send(ctx context.Context, c *httpclient.Client, conn *connectors.Connection, method, rawURL string, body any, header http.Header) (*httpclient.Response, error) {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, connectors.Permanent(fmt.Errorf("encode the request: %w", err))
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, reader)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("build the request: %w", err))
	}
	for name, values := range header {
		req.Header[name] = values
	}
	req.Header.Set("X-Acme-Key", conn.String(connAPIKey))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.WithSecrets(conn.SecretValues()...).Do(ctx, req)
	if err != nil {
		return nil, err // no answer: retryable
	}
	return resp, classify(resp, conn)
}

// classify adds to httpclient.Classify what Acme says: the message of its error body and
// the wait in X-Acme-Retry-After-Ms, finer than Retry-After.
func classify(resp *httpclient.Response, conn *connectors.Connection) error {
	err := httpclient.Classify(resp)
	if err == nil {
		return nil
	}
	var body struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(resp.Body, &body) == nil && body.Error.Message != "" {
		err = fmt.Errorf("acme says %q: %w", conn.Redact(body.Error.Message), err)
	}
	if ms, perr := strconv.Atoi(resp.Header.Get("X-Acme-Retry-After-Ms")); perr == nil && ms >= 0 && !connectors.IsPermanent(err) {
		err = connectors.RetryAfter(err, time.Duration(ms)*time.Millisecond)
	}
	return err
}
