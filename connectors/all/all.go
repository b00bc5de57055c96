// Package all blank-imports every built-in connector, the way a program imports
// database/sql drivers: each connector package registers itself into connectors.Default
// from its init function, so importing this package is all a binary needs to offer them.
//
// A custom build picks its own set instead by blank-importing the connector packages it
// wants (a third-party one included) next to, or in place of, this package.
package all

import (
	// Email over SMTP: email.send.
	_ "github.com/hookflow/hookflow/connectors/email"
	// The generic HTTP connector: http.request and the http.poll poll trigger.
	_ "github.com/hookflow/hookflow/connectors/http"
	// MoySklad: counterparties, customer orders, entities by href and webhook registration.
	_ "github.com/hookflow/hookflow/connectors/moysklad"
	// Telegram bots: telegram.send_message, the telegram.updates poll trigger and
	// webhook registration.
	_ "github.com/hookflow/hookflow/connectors/telegram"
	// Secrets for verifying incoming webhooks: connections only, no actions.
	_ "github.com/hookflow/hookflow/connectors/webhook"
)
