// Package all blank-imports every built-in connector, the way a program imports
// database/sql drivers: each connector package registers itself into connectors.Default
// from its init function, so importing this package is all a binary needs to offer them.
//
// A custom build picks its own set instead by blank-importing the connector packages it
// wants (a third-party one included) next to, or in place of, this package.
package all

import (
	// amoCRM (Kommo): amocrm.create_lead, add_note, find_contact and the amocrm.new_leads poll trigger.
	_ "github.com/hookflow/hookflow/connectors/amocrm"
	// Bitrix24 CRM: bitrix24.create_lead, add_comment, find_contact and the
	// bitrix24.new_leads poll trigger.
	_ "github.com/hookflow/hookflow/connectors/bitrix24"
	// The declarative connectors embedded in the binary (connector files, not Go): github,
	// notion and xero.
	_ "github.com/hookflow/hookflow/connectors/builtin"
	// Email over SMTP: email.send.
	_ "github.com/hookflow/hookflow/connectors/email"
	// The generic HTTP connector: http.request and the http.poll poll trigger.
	_ "github.com/hookflow/hookflow/connectors/http"
	// HubSpot CRM: hubspot.upsert_contact, hubspot.create_deal and the
	// hubspot.new_contacts poll trigger.
	_ "github.com/hookflow/hookflow/connectors/hubspot"
	// MoySklad: counterparties, customer orders, entities by href and webhook registration.
	_ "github.com/hookflow/hookflow/connectors/moysklad"
	// Pipedrive CRM: persons, leads and deals, and the pipedrive.new_deals poll trigger.
	_ "github.com/hookflow/hookflow/connectors/pipedrive"
	// Telegram bots: telegram.send_message, the telegram.updates poll trigger and
	// webhook registration.
	_ "github.com/hookflow/hookflow/connectors/telegram"
	// Secrets for verifying incoming webhooks: connections only, no actions.
	_ "github.com/hookflow/hookflow/connectors/webhook"
)
