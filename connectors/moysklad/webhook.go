package moysklad

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// Webhook registration options (WebhookTarget.Options, the "options" of
// POST /api/v1/connections/{name}/webhook).
const (
	optEntityType = "entity_type"
	optAction     = "action"
	optDiffType   = "diff_type"
)

// webhookURLMax is the longest url MoySklad stores for a webhook (error 30010).
const webhookURLMax = 255

// webhookActions are the events a webhook can subscribe to.
var webhookActions = []string{"CREATE", "UPDATE", "DELETE", "PROCESSED"}

// registerWebhook subscribes a workflow's webhook to one entity type and action
// (POST entity/webhook), or deletes every subscription pointing at it. MoySklad signs
// nothing and sends no header of ours, so the workflow's secret travels in the URL's
// query: the workflow's auth must be a token read from the query. A subscription that
// already exists is reused.
func registerWebhook(ctx context.Context, conn *connectors.Connection, target connectors.WebhookTarget) (any, error) {
	api, err := newAPI(conn, nil)
	if err != nil {
		return nil, fmt.Errorf("register moysklad webhook: %w", err)
	}
	hookURL, shown, err := webhookURL(target)
	if err != nil && !target.Delete {
		return nil, connectors.Permanent(fmt.Errorf("register moysklad webhook of connection %s: %w", conn.Name, err))
	}
	hooks, err := api.webhooks(ctx)
	if err != nil {
		return nil, fmt.Errorf("list moysklad webhooks of connection %s: %w", conn.Name, err)
	}
	if target.Delete {
		// Whatever its secret: the URL without its query is the workflow's.
		deleted := 0
		for _, h := range hooks {
			if sameHook(str(h["url"]), target.URL) {
				_, href := entityOutput(h)
				if err := api.do(ctx, http.MethodDelete, href, nil, nil); err != nil {
					return nil, fmt.Errorf("delete moysklad webhook %s of connection %s: %w", str(h["id"]), conn.Name, err)
				}
				deleted++
			}
		}
		return map[string]any{"ok": true, "deleted": deleted}, nil
	}
	entityType, action, diffType, err := webhookOptions(target.Options)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("register moysklad webhook of connection %s: %w", conn.Name, err))
	}
	result := func(h map[string]any, existing bool) map[string]any {
		id, _ := entityOutput(h)
		return map[string]any{"ok": true, "id": id, "entity_type": entityType, "action": action, "url": shown,
			"enabled": h["enabled"], "existing": existing}
	}
	for _, h := range hooks {
		if str(h["url"]) == hookURL && str(h["entityType"]) == entityType && str(h["action"]) == action {
			return result(h, true), nil
		}
	}
	body := map[string]any{"url": hookURL, "action": action, "entityType": entityType}
	if diffType != "" {
		body["diffType"] = diffType
	}
	var created map[string]any
	if err := api.do(ctx, http.MethodPost, api.url("entity/webhook"), body, &created); err != nil {
		return nil, fmt.Errorf("create moysklad webhook of connection %s for %s %s: %s", conn.Name, entityType, action,
			strings.ReplaceAll(err.Error(), target.Secret, connectors.RedactedValue))
	}
	return result(created, false), nil
}

// webhookURL is the URL MoySklad is told to post to: the workflow's URL with the secret
// in the query parameter the workflow's auth reads, and that URL with the secret masked.
func webhookURL(target connectors.WebhookTarget) (full, shown string, err error) {
	u, err := url.Parse(target.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", fmt.Errorf("url %q is not an absolute https URL", httpclient.RedactURL(target.URL))
	}
	if target.Secret == "" || target.SecretQuery == "" {
		return "", "", fmt.Errorf("MoySklad signs nothing and sends no custom header: give the workflow's webhook " +
			`the auth {"type": "token", "query": "key", "connection": ...} so the secret travels in the URL`)
	}
	q := u.Query()
	q.Set(target.SecretQuery, target.Secret)
	u.RawQuery = q.Encode()
	full = u.String()
	if len(full) > webhookURLMax {
		return "", "", fmt.Errorf("the webhook URL with its secret is %d characters long; MoySklad takes at most %d: shorten the secret or HOOKFLOW_BASE_URL", len(full), webhookURLMax)
	}
	q.Set(target.SecretQuery, connectors.RedactedValue)
	u.RawQuery = q.Encode()
	shown, _ = url.PathUnescape(u.String())
	return full, shown, nil
}

// sameHook reports whether a registered url is the workflow's URL, whatever its query.
func sameHook(registered, workflowURL string) bool {
	cut := func(s string) string { s, _, _ = strings.Cut(s, "?"); return s }
	return cut(registered) == cut(workflowURL)
}

// webhookOptions reads and checks the registration's entity type, action and diff type.
func webhookOptions(opts map[string]any) (entityType, action, diffType string, err error) {
	entityType = strings.ToLower(strings.TrimSpace(str(opts[optEntityType])))
	action = strings.ToUpper(strings.TrimSpace(str(opts[optAction])))
	diffType = strings.ToUpper(strings.TrimSpace(str(opts[optDiffType])))
	if entityType == "" {
		entityType = "customerorder"
	}
	if action == "" {
		action = "CREATE"
	}
	if entityType == "webhook" || entityType == "discount" || entityType == "notes" {
		return "", "", "", fmt.Errorf("options.entity_type: MoySklad sends no webhooks for %s", entityType)
	}
	known := false
	for _, a := range webhookActions {
		known = known || a == action
	}
	if !known {
		return "", "", "", fmt.Errorf("options.action %q is not one of %s", action, strings.Join(webhookActions, ", "))
	}
	switch {
	case diffType != "" && diffType != "NONE" && diffType != "FIELDS":
		return "", "", "", fmt.Errorf("options.diff_type %q is not NONE or FIELDS", diffType)
	case diffType != "" && action != "UPDATE":
		return "", "", "", fmt.Errorf("options.diff_type applies to UPDATE webhooks only")
	}
	return entityType, action, diffType, nil
}

// webhooks lists the account's webhook subscriptions.
func (a *api) webhooks(ctx context.Context) ([]map[string]any, error) {
	var all []map[string]any
	next := a.url("entity/webhook?limit=1000")
	for next != "" {
		var page listResponse
		if err := a.do(ctx, http.MethodGet, next, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Rows...)
		next = page.Meta.NextHref
		if next != "" {
			if _, err := a.checkHref(next); err != nil {
				return nil, connectors.Permanent(fmt.Errorf("next page: %w", err))
			}
		}
	}
	return all, nil
}
