// Package signature verifies incoming webhook requests before they are stored and run.
//
// A workflow's trigger.webhook.auth names a scheme (Config.Type) and a connection whose
// secret fills Config.Secrets. Verify checks one request against it:
//
//	err := signature.Verify(cfg, &signature.Request{
//		Method: r.Method,
//		URL:    publicURL, // scheme://host/path?query as the sender called it
//		Header: r.Header,
//		Body:   raw,       // the bytes exactly as received
//		Form:   form,      // parsed application/x-www-form-urlencoded params, else nil
//	}, time.Now())
//
// Verify returns nil or an *Error whose Code and Reason the inspector records. IsRejection
// tells a bad request (answer 401) from a bad configuration (answer 500, so that the
// sender retries once the operator has fixed it).
//
// The schemes:
//
//   - none: every request passes.
//   - token: a header (or query parameter) equals a secret.
//   - basic: HTTP Basic credentials equal Username and Password.
//   - hmac: a header holds HMAC(algorithm, secret, body), hex or base64, after an optional prefix.
//   - github, meta: X-Hub-Signature-256 "sha256=<hex>" over the body; the legacy
//     X-Hub-Signature "sha1=<hex>" only when the first header is absent.
//   - stripe: Stripe-Signature "t=<unix>,v1=<hex>,…" over "<t>.<body>", keyed with the whole
//     whsec_ string; any v1 may match.
//   - slack: X-Slack-Signature "v0=<hex>" over "v0:<ts>:<body>" with X-Slack-Request-Timestamp.
//   - shopify: X-Shopify-Hmac-Sha256, base64 HMAC-SHA256 of the body.
//   - standard-webhooks: webhook-id, webhook-timestamp and webhook-signature ("v1,<base64>",
//     space separated) over "<id>.<ts>.<body>", keyed with the base64 part of whsec_…;
//     the svix-* header names are accepted too.
//   - telegram: X-Telegram-Bot-Api-Secret-Token equals the secret.
//   - hubspot-v3: X-HubSpot-Signature-v3, base64 HMAC-SHA256 of method+uri+body+timestamp,
//     with X-HubSpot-Request-Timestamp in milliseconds.
//   - twilio: X-Twilio-Signature, base64 HMAC-SHA1 of the URL followed by the sorted form
//     parameters; a JSON body is bound through the URL's bodySHA256 parameter.
//   - tilda: an optional API key in a header (Config.Header) or form field (Config.Field)
//     equals a secret; no key configured checks nothing. IsProbe spots Tilda's test=test.
//   - bitrix24: the form field auth[application_token] of a Bitrix24 event equals the secret.
//
// Schemes with a timestamp reject requests older or newer than Config.Tolerance
// (ToleranceDefault when zero). Every comparison runs in constant time, several secrets may
// be configured at once so that a secret can be rotated without dropping requests, and no
// Reason ever contains a secret, a received credential or an expected signature.
package signature
