// Package telegram is the Telegram Bot API connector: telegram.send_message sends a text
// message, the telegram.updates poll trigger receives the bot's updates with getUpdates,
// and a connection can point the bot's webhook at a workflow (setWebhook).
//
// The bot token is part of every request's path (/bot<token>/<method>), so every request
// goes through an httpclient.Client that knows the token as a secret: it is masked in
// logs and error messages.
//
// It registers itself from init; binaries pick it up by importing connectors/all.
package telegram

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
	connToken   = "token"
	connBaseURL = "base_url"
)

// BaseURLDefault is the Bot API server used when a connection sets no base_url.
const BaseURLDefault = "https://api.telegram.org"

// tokenPattern is the shape of a bot token, "<bot id>:<secret>". Checking it also keeps
// a token from changing the request path ("/", "?", "#").
var tokenPattern = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)

// client is shared by every call so connections to the Bot API are reused; each call
// works on a cheap copy that knows its token, logger and timeout.
var client = httpclient.New(httpclient.Options{})

// connector is the telegram connector as registered in connectors.Default.
var connector = &connectors.Connector{
	Name:  "telegram",
	Title: "Telegram",
	Description: "Sends messages as a Telegram bot and receives the bot's updates, through the Telegram Bot API. " +
		"Create a bot and get its token from @BotFather. A bot receives its updates either by polling " +
		"(the telegram.updates poll trigger) or through a webhook pointed at a workflow (a webhook trigger with the " +
		"telegram auth preset, registered through the connection's webhook registration), never both at once.",
	Connection: []connectors.Field{
		{Name: connToken, Type: connectors.TypeString, Title: "Bot token", Required: true, Secret: true,
			Description: "The bot's token from @BotFather, `<bot id>:<secret>`. It is part of every request's URL; " +
				"Hookflow masks it in logs and errors.",
			Examples: []any{"123456789:AAH-your-bot-token-from-BotFather"}},
		{Name: connBaseURL, Type: connectors.TypeString, Title: "Bot API server", Endpoint: true,
			Description: "Address of the Bot API server, without the `/bot<token>` part. Change it only for a " +
				"self-hosted telegram-bot-api server, a proxy, or a local fake in tests.",
			Default: BaseURLDefault, Examples: []any{BaseURLDefault, "http://localhost:8081"}},
	},
	ConnectionRequired: true,
	Actions:            []*connectors.ActionDef{sendMessageAction},
	Pollers:            []*connectors.PollerDef{updatesPoller},
	ValidateConnection: validateConnection,
	TestConnection:     testConnection,
	RegisterWebhook:    registerWebhook,
}

func init() {
	connectors.MustRegister(connector)
}

// validateConnection checks what the field specs cannot: the token's shape and that
// base_url is an absolute http(s) URL the method paths can be appended to. Its errors
// never quote the token.
func validateConnection(config map[string]any) error {
	var errs []error
	switch token := config[connToken].(type) {
	case nil:
		errs = append(errs, errors.New("token is required"))
	case string:
		if !tokenPattern.MatchString(token) {
			errs = append(errs, errors.New("token does not look like a bot token, <bot id>:<secret> such as 123456789:AAH…; copy it from @BotFather"))
		}
	default:
		errs = append(errs, fmt.Errorf("token must be a string, got %s", connectors.JSONTypeOf(token)))
	}
	switch base := config[connBaseURL].(type) {
	case nil:
	case string:
		if base != "" {
			if _, err := httpclient.ParseBaseURL(base); err != nil {
				errs = append(errs, err)
			}
		}
	default:
		errs = append(errs, fmt.Errorf("base_url must be a string, got %s", connectors.JSONTypeOf(base)))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid telegram connection: %w", err)
	}
	return nil
}

// testConnection checks the token with getMe, which needs no chat and changes nothing.
func testConnection(ctx context.Context, conn *connectors.Connection) error {
	api, err := newBotAPI(conn, nil)
	if err != nil {
		return err
	}
	var me struct {
		ID       int64  `json:"id"`
		IsBot    bool   `json:"is_bot"`
		Username string `json:"username"`
	}
	if err := api.call(ctx, "getMe", struct{}{}, &me); err != nil {
		return fmt.Errorf("check telegram connection %s: %w", conn.Name, err)
	}
	if !me.IsBot {
		return connectors.Permanent(fmt.Errorf("check telegram connection %s: the token belongs to user %d, not a bot", conn.Name, me.ID))
	}
	return nil
}
