package engine

import "github.com/hookflow/hookflow/engine/trigger/signature"

// The webhook auth presets, for forms that offer them (the builder's trigger card): the
// web layer reads them here rather than from the trigger packages.

// WebhookAuthPresets lists the preset names a webhook trigger's auth type accepts.
func WebhookAuthPresets() []string { return signature.Presets() }

// WebhookAuthNeedsCredentials says whether a preset checks a secret held by a
// connection (a signing key, a token, a password).
func WebhookAuthNeedsCredentials(preset string) bool { return signature.NeedsCredentials(preset) }

// WebhookAuthConnectionOptional says whether a preset may name a connection without
// needing one (a service whose secret is optional, like Tilda's API key).
func WebhookAuthConnectionOptional(preset string) bool {
	return signature.ConnectionOptional(preset)
}
