package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// secretTokenPattern is what setWebhook accepts as secret_token: 1 to 256 characters
// of A-Z, a-z, 0-9, _ and -.
var secretTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// setWebhookParams is the setWebhook request body.
type setWebhookParams struct {
	URL         string `json:"url"`
	SecretToken string `json:"secret_token,omitempty"`
	// DropPendingUpdates is sent as false on purpose: updates waiting from polling go
	// to the new webhook instead of being lost.
	DropPendingUpdates bool `json:"drop_pending_updates"`
}

// registerWebhook points the bot's webhook at a workflow (setWebhook with its secret as
// secret_token, which Telegram sends back in X-Telegram-Bot-Api-Secret-Token), or removes
// it (deleteWebhook). Pending updates are kept either way. The result holds no secret.
func registerWebhook(ctx context.Context, conn *connectors.Connection, target connectors.WebhookTarget) (any, error) {
	api, err := newBotAPI(conn, nil)
	if err != nil {
		return nil, fmt.Errorf("register telegram webhook: %w", err)
	}
	var description string
	if target.Delete {
		if err := api.callDescribed(ctx, "deleteWebhook", map[string]any{"drop_pending_updates": false}, &description); err != nil {
			return nil, fmt.Errorf("delete telegram webhook of connection %s: %w", conn.Name, err)
		}
		return map[string]any{"ok": true, "deleted": true, "description": description}, nil
	}
	shownURL := httpclient.RedactURL(target.URL)
	u, err := url.Parse(target.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, connectors.Permanent(fmt.Errorf("set telegram webhook of connection %s: url %q is not an absolute https URL", conn.Name, shownURL))
	}
	// Checked here because Telegram's answer would not say which setting is wrong, and
	// the secret must not be quoted.
	if target.Secret != "" && !secretTokenPattern.MatchString(target.Secret) {
		return nil, connectors.Permanent(fmt.Errorf("set telegram webhook of connection %s: %w", conn.Name, errBadSecret(len(target.Secret))))
	}
	params := setWebhookParams{URL: target.URL, SecretToken: target.Secret}
	if err := api.callDescribed(ctx, "setWebhook", params, &description); err != nil {
		return nil, fmt.Errorf("set telegram webhook of connection %s to %s: %w", conn.Name, shownURL, err)
	}
	return map[string]any{
		"ok":           true,
		"url":          shownURL,
		"secret_token": target.Secret != "",
		"description":  description,
	}, nil
}

// errBadSecret explains why a webhook secret cannot be Telegram's secret_token, without
// quoting it.
func errBadSecret(length int) error {
	if length > 256 {
		return fmt.Errorf("the webhook secret is %d characters long but Telegram's secret_token allows at most 256; "+
			"give the webhook auth connection a shorter secret", length)
	}
	return errors.New("the webhook secret has characters Telegram's secret_token does not allow: use only A-Z, a-z, 0-9, _ and - " +
		"in the webhook auth connection's secret")
}
