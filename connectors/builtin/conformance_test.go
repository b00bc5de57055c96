package builtin_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/builtin"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

// The conformance suite runs each built-in action against a loopback fake that answers
// the way the real service does (CONTRACTS.md): its paths, headers and error bodies. The
// secrets are distinctive so the suite can look for them in outputs, errors and logs.
const (
	githubToken       = "github_pat_conformance_11AAAAAAA0c0ffee00000000"
	notionToken       = "ntn_conformance_4217c0ffee0000000000000000000000"
	xeroClientID      = "CONFORMANCEXEROCLIENTID000000001"
	xeroClientSecret  = "xero-conformance-client-secret-7c1e"
	xeroRefreshToken  = "xero-conformance-refresh-token-0001"
	xeroTenantID      = "4f1c8e2a-0000-4000-8000-00000000c0fe"
	xeroAccessToken   = "xero-conformance-access-token-A1"
	notionDatabaseID  = "d9824bdc-8445-4327-be8b-5b47500af6ce"
	notionPageID      = "59833787-2cf9-4fdf-8782-e53db20768a5"
	xeroContactID     = "bd2270c3-8706-4c11-9cfb-000b551c3f51"
	conformanceFakeID = "e7c1f0a2-6d55-4b0e-9f3a-1c2d3e4f5a6b"
)

// registry holds fresh copies of the built-ins, so the suite does not depend on init.
func registry(t *testing.T) *connectors.Registry {
	t.Helper()
	cs, err := builtin.Connectors()
	require.NoError(t, err)
	return connectors.NewRegistry().With(cs...)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// respondLikeGitHub answers as api.github.com: 201 with the created issue or comment, the
// rate-limit headers on every API answer, and GitHub's {message, documentation_url} errors.
// A request without the token, the JSON media type or the API version is refused as
// GitHub would.
func respondLikeGitHub(w http.ResponseWriter, r *http.Request, status int) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch {
	case r.Header.Get("Authorization") != "Bearer "+githubToken:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
		return
	case r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" || r.Header.Get("Accept") != "application/vnd.github+json":
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Unsupported API version or media type", "status": "400"})
		return
	}
	if status < 500 {
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "4990")
		w.Header().Set("X-RateLimit-Used", "10")
		w.Header().Set("X-RateLimit-Resource", "core")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(time.Hour).Unix()))
	}
	switch status {
	case http.StatusOK:
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.Method != http.MethodPost {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Problems parsing JSON", "status": "400"})
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/repos/octo-org/hello-world/issues") && in["title"] != nil:
			writeJSON(w, http.StatusCreated, map[string]any{"id": 2304758491, "number": 42, "state": "open", "title": in["title"],
				"html_url": "https://github.com/octo-org/hello-world/issues/42", "created_at": "2024-05-01T10:20:30Z", "updated_at": "2024-05-01T10:20:30Z"})
		case strings.HasSuffix(r.URL.Path, "/repos/octo-org/hello-world/issues/42/comments") && in["body"] != nil:
			writeJSON(w, http.StatusCreated, map[string]any{"id": 2088391245, "body": in["body"],
				"html_url": "https://github.com/octo-org/hello-world/issues/42#issuecomment-2088391245"})
		default:
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"})
		}
	case http.StatusTooManyRequests:
		writeJSON(w, status, map[string]any{"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"})
	case http.StatusBadRequest:
		writeJSON(w, status, map[string]any{"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue", "status": "400"})
	default:
		writeJSON(w, status, map[string]any{"message": "Server Error"})
	}
}

func githubConnection(baseURL string) map[string]any {
	return map[string]any{"token": githubToken, "base_url": baseURL}
}

func TestConformanceGitHubCreateIssue(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry:   registry(t),
		Action:     "github.create_issue",
		Connection: githubConnection,
		Input: func(string) map[string]any {
			return map[string]any{"owner": "octo-org", "repo": "hello-world", "title": "Form lead from the site",
				"body": "Ann Lee asked for a demo.", "labels": []any{"lead"}}
		},
		Respond: respondLikeGitHub,
	})
}

func TestConformanceGitHubAddComment(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry:   registry(t),
		Action:     "github.add_comment",
		Connection: githubConnection,
		Input: func(string) map[string]any {
			return map[string]any{"owner": "octo-org", "repo": "hello-world", "issue_number": int64(42), "body": "Demo booked."}
		},
		Respond: respondLikeGitHub,
	})
}

// respondLikeXero answers as identity.xero.com and api.xero.com: the token endpoint
// exchanges the refresh token (a new one each time: Xero rotates them) whatever the
// status under test; the Accounting API checks the access token and Xero-tenant-id, takes
// Idempotency-Key, and answers with Xero's own bodies: {"Contacts": […]}, a
// ValidationException, a 429 naming its limit, and {Title, Status, Detail} for the rest.
func respondLikeXero(w http.ResponseWriter, r *http.Request, status int) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.URL.Path == "/connect/token" {
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(xeroClientID+":"+xeroClientSecret))
		if err := r.ParseForm(); err != nil || r.Header.Get("Authorization") != basic ||
			r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") == "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_client"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"access_token": xeroAccessToken, "expires_in": 1800, "token_type": "Bearer",
			"refresh_token": "xero-conformance-refresh-token-" + fmt.Sprint(time.Now().UnixNano()), "scope": "offline_access accounting.contacts accounting.transactions"})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+xeroAccessToken {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"Type": nil, "Title": "Unauthorized", "Status": 401, "Detail": "AuthenticationUnsuccessful"})
		return
	}
	if r.Header.Get("Xero-tenant-id") != xeroTenantID {
		writeJSON(w, http.StatusForbidden, map[string]any{"Type": nil, "Title": "Forbidden", "Status": 403, "Detail": "AuthenticationUnsuccessful"})
		return
	}
	w.Header().Set("X-DayLimit-Remaining", "4990")
	w.Header().Set("X-MinLimit-Remaining", "59")
	w.Header().Set("X-AppMinLimit-Remaining", "9999")
	switch status {
	case http.StatusOK:
		var in map[string][]map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.Method != http.MethodPut {
			writeJSON(w, http.StatusBadRequest, map[string]any{"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": "Invalid Json data"})
			return
		}
		switch {
		case r.URL.Path == "/api.xro/2.0/Contacts" && len(in["Contacts"]) == 1:
			writeJSON(w, http.StatusOK, map[string]any{"Id": conformanceFakeID, "Status": "OK", "ProviderName": "Hookflow",
				"Contacts": []any{map[string]any{"ContactID": xeroContactID, "ContactStatus": "ACTIVE", "Name": in["Contacts"][0]["Name"],
					"UpdatedDateUTC": "/Date(1714558830417+0000)/"}}})
		case r.URL.Path == "/api.xro/2.0/Invoices" && len(in["Invoices"]) == 1:
			writeJSON(w, http.StatusOK, map[string]any{"Id": conformanceFakeID, "Status": "OK", "ProviderName": "Hookflow",
				"Invoices": []any{map[string]any{"InvoiceID": "ed255415-e141-4150-aab7-89c3bbbb851c", "InvoiceNumber": "INV-0042",
					"Type": in["Invoices"][0]["Type"], "Status": in["Invoices"][0]["Status"], "Total": 300.0, "AmountDue": 300.0,
					"UpdatedDateUTC": "/Date(1714558830417+0000)/"}}})
		default:
			writeJSON(w, http.StatusNotFound, map[string]any{"Title": "Not Found", "Status": 404, "Detail": "The resource you're looking for cannot be found"})
		}
	case http.StatusBadRequest:
		writeJSON(w, status, map[string]any{"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
			"Elements": []any{map[string]any{"ValidationErrors": []any{map[string]any{"Message": "The contact name must be unique across all active contacts."}}}}})
	case http.StatusTooManyRequests:
		w.Header().Set("X-Rate-Limit-Problem", "minute")
		w.Header().Set("X-MinLimit-Remaining", "0")
		w.WriteHeader(status)
	default:
		writeJSON(w, status, map[string]any{"Title": http.StatusText(status), "Status": status,
			"Detail": "An error occurred in Xero. Check the API Status page http://status.developer.xero.com for current service status."})
	}
}

func xeroConnection(baseURL string) map[string]any {
	return map[string]any{"client_id": xeroClientID, "client_secret": xeroClientSecret, "refresh_token": xeroRefreshToken,
		"tenant_id": xeroTenantID, "base_url": baseURL + "/api.xro/2.0", "token_url": baseURL + "/connect/token"}
}

func TestConformanceXeroCreateContact(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry:   registry(t),
		Action:     "xero.create_contact",
		Connection: xeroConnection,
		Input: func(string) map[string]any {
			return map[string]any{"name": "Acme Ltd", "first_name": "Ann", "last_name": "Lee", "email": "ann@acme.example"}
		},
		Respond:           respondLikeXero,
		IdempotencyHeader: "Idempotency-Key",
	})
}

func TestConformanceXeroCreateInvoice(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry:   registry(t),
		Action:     "xero.create_invoice",
		Connection: xeroConnection,
		Input: func(string) map[string]any {
			return map[string]any{"contact_id": xeroContactID, "status": "AUTHORISED", "due_date": "2024-05-31",
				"line_items": []any{map[string]any{"Description": "Consulting", "Quantity": int64(2), "UnitAmount": int64(150), "AccountCode": "200"}}}
		},
		Respond:           respondLikeXero,
		IdempotencyHeader: "Idempotency-Key",
	})
}

// respondLikeNotion answers as api.notion.com: page and block-list objects, and errors as
// {"object": "error", status, code, message} with Notion's codes. A request without the
// token or the Notion-Version header is refused as Notion would.
func respondLikeNotion(w http.ResponseWriter, r *http.Request, status int) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	notionErr := func(status int, code, message string) {
		writeJSON(w, status, map[string]any{"object": "error", "status": status, "code": code, "message": message,
			"request_id": "0c4a8f3e-2b1d-4e6f-9a8b-7c6d5e4f3a2b"})
	}
	switch {
	case r.Header.Get("Authorization") != "Bearer "+notionToken:
		notionErr(http.StatusUnauthorized, "unauthorized", "API token is invalid.")
		return
	case r.Header.Get("Notion-Version") == "":
		notionErr(http.StatusBadRequest, "missing_version", "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.")
		return
	}
	switch status {
	case http.StatusOK:
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			notionErr(http.StatusBadRequest, "invalid_json", "Error parsing JSON body.")
			return
		}
		page := map[string]any{"object": "page", "id": notionPageID, "created_time": "2024-05-01T10:21:00.000Z",
			"last_edited_time": "2024-05-01T10:21:00.000Z", "archived": false, "properties": map[string]any{},
			"parent":     map[string]any{"type": "database_id", "database_id": notionDatabaseID},
			"url":        "https://www.notion.so/Call-Ann-Lee-598337872cf94fdf8782e53db20768a5",
			"public_url": nil}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/pages" && in["parent"] != nil && in["properties"] != nil:
			writeJSON(w, http.StatusOK, page)
		case r.Method == http.MethodPatch && r.URL.Path == "/v1/pages/"+notionPageID:
			writeJSON(w, http.StatusOK, page)
		case r.Method == http.MethodPatch && r.URL.Path == "/v1/blocks/"+notionPageID+"/children" && in["children"] != nil:
			writeJSON(w, http.StatusOK, map[string]any{"object": "list", "next_cursor": nil, "has_more": false, "type": "block", "block": map[string]any{},
				"results": []any{map[string]any{"object": "block", "id": "a7e0f3b2-4c5d-4e6f-8a9b-0c1d2e3f4a5b", "type": "paragraph"}}})
		default:
			notionErr(http.StatusBadRequest, "invalid_request_url", "Invalid request URL.")
		}
	case http.StatusBadRequest:
		notionErr(status, "validation_error", "body failed validation: body.properties should be defined, instead was `undefined`.")
	case http.StatusTooManyRequests:
		notionErr(status, "rate_limited", "You have been rate limited. Please try again in a few minutes.")
	case http.StatusServiceUnavailable:
		notionErr(status, "service_unavailable", "Notion is unavailable. Please try again later.")
	default:
		notionErr(status, "internal_server_error", "Unexpected error occurred.")
	}
}

func notionConnection(baseURL string) map[string]any {
	return map[string]any{"token": notionToken, "base_url": baseURL}
}

func TestConformanceNotionCreatePage(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry:   registry(t),
		Action:     "notion.create_page",
		Connection: notionConnection,
		Input: func(string) map[string]any {
			return map[string]any{"database_id": notionDatabaseID,
				"properties": map[string]any{"Name": map[string]any{"title": []any{map[string]any{"text": map[string]any{"content": "Call Ann Lee"}}}}}}
		},
		Respond: respondLikeNotion,
	})
}

func TestConformanceNotionUpdatePage(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry:   registry(t),
		Action:     "notion.update_page",
		Connection: notionConnection,
		Input: func(string) map[string]any {
			return map[string]any{"page_id": notionPageID, "properties": map[string]any{"Status": map[string]any{"select": map[string]any{"name": "Contacted"}}}}
		},
		Respond: respondLikeNotion,
	})
}

func TestConformanceNotionAppendBlockChildren(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry:   registry(t),
		Action:     "notion.append_block_children",
		Connection: notionConnection,
		Input: func(string) map[string]any {
			return map[string]any{"block_id": notionPageID, "children": []any{map[string]any{"object": "block", "type": "paragraph",
				"paragraph": map[string]any{"rich_text": []any{map[string]any{"type": "text", "text": map[string]any{"content": "Demo booked."}}}}}}}
		},
		Respond: respondLikeNotion,
	})
}
