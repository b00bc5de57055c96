// Package kit tests a declarative connector file against recorded exchanges: each fixture
// is one case (a call of an action, a poll of a trigger, or a connection test) with the
// requests the connector must send, in order, and the responses to give back. Requests
// never leave the process: the connector's HTTP client gets a replaying transport.
//
// `hookflow connector test FILE [FIXTURES_DIR]` runs it; FIXTURES_DIR defaults to the
// directory named like the file without its extension, next to it.
package kit

// Fixture is one case file (YAML or JSON) in the fixtures directory.
type Fixture struct {
	// Name describes the case; default the file name.
	Name string `json:"name,omitempty"`
	// Covers lists the required cases this fixture proves (see RequiredCases).
	Covers []string `json:"covers,omitempty"`
	// Connection is the connection's settings, fake secrets included. Every secret value
	// must be at least 8 characters, so finding it in an output is no accident.
	Connection map[string]any `json:"connection,omitempty"`
	// Exactly one of Action, Trigger and TestConnection says what is called.
	Action         string `json:"action,omitempty"`
	Trigger        string `json:"trigger,omitempty"`
	TestConnection bool   `json:"test_connection,omitempty"`
	// Input is the action's or trigger's input.
	Input map[string]any `json:"input,omitempty"`
	// Cursor is the trigger's saved cursor; absent means the first poll.
	Cursor any `json:"cursor,omitempty"`
	// Exchanges are consumed in order, each exactly once.
	Exchanges []Exchange `json:"exchanges"`
	Expect    Expect     `json:"expect"`
}

// Exchange is one expected request and the response it gets.
type Exchange struct {
	Request  ExpectedRequest  `json:"request"`
	Response RecordedResponse `json:"response"`
}

// ExpectedRequest is matched against what the connector sends. Fields left out are not
// checked, except the method and the URL.
type ExpectedRequest struct {
	Method string `json:"method"`
	// URL is the absolute URL without the query string.
	URL string `json:"url"`
	// Query must equal the request's query exactly (every parameter, every value) when set.
	Query map[string]any `json:"query,omitempty"`
	// Headers must be present with these values; other headers are not checked. A value
	// "*" only checks presence.
	Headers map[string]string `json:"headers,omitempty"`
	// Body must be JSON-equal to the request's JSON body. Form is compared with a form
	// body's fields.
	Body any               `json:"body,omitempty"`
	Form map[string]string `json:"form,omitempty"`
}

// RecordedResponse is the response given back.
type RecordedResponse struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	// Body is sent as JSON; BodyText is sent as it is (it wins when both are set).
	Body     any    `json:"body,omitempty"`
	BodyText string `json:"body_text,omitempty"`
}

// Expect is what the case must end with.
type Expect struct {
	// Output must be contained in the action's output (objects compared key by key).
	Output map[string]any `json:"output,omitempty"`
	// ItemKeys are the keys of the items the poll returns, in order.
	ItemKeys []any `json:"item_keys,omitempty"`
	// Cursor is the cursor the poll returns.
	Cursor any `json:"cursor,omitempty"`
	// Error is set when the case must fail: its kind and a text it contains.
	Error *ExpectedError `json:"error,omitempty"`
	// Attempts is how many times the kit called the action or poll (retries included);
	// 0 skips the check.
	Attempts int `json:"attempts,omitempty"`
	// Waited is the least total time the fake clock must have waited ("3s").
	Waited string `json:"waited,omitempty"`
	// Secrets are the connection secrets the store must hold at the end (rotated tokens).
	Secrets map[string]string `json:"secrets,omitempty"`
}

// ExpectedError is an expected failure.
type ExpectedError struct {
	// Kind: permanent (no retry can help), retryable (the step would be retried, the
	// attempts ran out), or any.
	Kind     string `json:"kind"`
	Contains string `json:"contains,omitempty"`
}

// RequiredCases are the cases every connector's fixtures must cover, where they apply:
// refresh only for oauth2 auth kinds, the pagination cases only when a trigger pages,
// same_idempotency only when an action declares idempotency.
var RequiredCases = []string{
	"happy_path",         // an action succeeds
	"three_pages",        // a poll reads three pages, then stops by its stop rule
	"repeated_token",     // a page repeats a token or URL already seen: the poll fails
	"wait_header",        // 429 with a wait header: the retry waits what it says
	"refresh",            // 401, one token refresh, one retry that succeeds
	"server_error_retry", // 5xx, then success
	"permanent_4xx",      // a 4xx that is not retried
	"same_idempotency",   // every retry sends the same idempotency value
	"secrets_redacted",   // a response echoing a secret: output and error show it masked
}
