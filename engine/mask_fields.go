package engine

import (
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trigger/signature"
	"github.com/hookflow/hookflow/engine/workflow"
)

// bitrix24Credentials are the form fields of a Bitrix24 event that are credentials: the
// handler's application token (the secret the bitrix24 preset checks) and, in events
// sent to an application, its OAuth tokens.
var bitrix24Credentials = []string{"auth[application_token]", "auth[access_token]", "auth[refresh_token]"}

// credentialFields returns the form fields of a request body that are masked before it
// is stored, and the content type to read the body as: tilda's auth.field in a form
// body, and with the bitrix24 preset its tokens, read as a form whatever the body is
// labelled, as the preset reads it. Nil when the body is stored as received.
func credentialFields(auth *workflow.WebhookAuth, contentType string) (string, []string) {
	switch {
	case auth == nil:
		return "", nil
	case auth.Type == signature.TypeBitrix24:
		return "application/x-www-form-urlencoded", bitrix24Credentials
	case auth.Field != "":
		return contentType, []string{auth.Field}
	}
	return "", nil
}

// storedSize is the size of a request's body as stored whole, from its size as it arrived
// (size; req.Body holds what was read of it): a masked credential makes it shorter. The
// inspector tells a body kept only in part by its being shorter than this size.
func storedSize(size int64, req IngestRequest, ev *store.Event) int64 {
	return size - int64(len(req.Body)-len(ev.Body))
}
