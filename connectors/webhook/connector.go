// Package webhook registers the "webhook" connector: no actions, only connections that
// hold the secrets incoming webhooks are verified with (trigger.webhook.auth names one).
package webhook

import (
	"errors"

	"github.com/hookflow/hookflow/connectors"
)

// Connection setting names.
const (
	Secret         = "secret"
	PreviousSecret = "previous_secret"
	Username       = "username"
	Password       = "password"
)

func init() {
	connectors.MustRegister(&connectors.Connector{
		Name:  "webhook",
		Title: "Incoming webhook secrets",
		Description: "Holds the secret that incoming webhooks are verified with; a workflow's " +
			"trigger.webhook.auth names the connection. It has no actions. To sign the webhooks Hookflow sends, " +
			"set signing_secret on the http connection of the http.request step instead.",
		Connection: []connectors.Field{
			{Name: Secret, Type: connectors.TypeString, Secret: true, Title: "Secret",
				Description: "The shared secret: the HMAC key, the expected token, or the preset's signing secret " +
					"(Stripe's whsec_..., Standard Webhooks' whsec_<base64>, Telegram's secret_token, Twilio's auth token)."},
			{Name: PreviousSecret, Type: connectors.TypeString, Secret: true, Title: "Previous secret",
				Description: "The secret being rotated out: requests signed with either secret pass until you remove it."},
			{Name: Username, Type: connectors.TypeString, Title: "Username",
				Description: "User name for basic authentication."},
			{Name: Password, Type: connectors.TypeString, Secret: true, Title: "Password",
				Description: "Password for basic authentication."},
		},
		ValidateConnection: func(config map[string]any) error {
			_, hasSecret := config[Secret]
			_, hasUser := config[Username]
			_, hasPass := config[Password]
			if !hasSecret && !(hasUser && hasPass) {
				return errors.New("set secret, or username and password for basic authentication")
			}
			if hasUser != hasPass {
				return errors.New("basic authentication needs both username and password")
			}
			return nil
		},
	})
}
