package signature_test

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hookflow/hookflow/engine/trigger/signature"
)

// A GitHub delivery verified with the preset, then the same request without its
// signature header: the *Error tells the inspector why it was refused.
func ExampleVerify() {
	cfg := signature.Config{Type: "github", Secrets: []string{"It's a Secret to Everybody"}}
	req := &signature.Request{
		Method: http.MethodPost,
		URL:    "https://hooks.example.com/hooks/7f3a9c",
		Header: http.Header{"X-Hub-Signature-256": {"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}},
		Body:   []byte("Hello, World!"),
	}
	fmt.Println(signature.Verify(cfg, req, time.Now()))

	req.Header.Del("X-Hub-Signature-256")
	err := signature.Verify(cfg, req, time.Now())
	var rej *signature.Error
	if errors.As(err, &rej) {
		fmt.Println(signature.IsRejection(err), rej.Code, rej.Reason)
	}
	fmt.Println(signature.DefaultDedupe(cfg.Type))
	// Output:
	// <nil>
	// true missing_header missing header X-Hub-Signature-256
	// trigger.headers['x-github-delivery']
}

// ValidateConfig runs when a workflow is saved: every problem is named by its field.
func ExampleValidateConfig() {
	err := signature.ValidateConfig(signature.Config{Type: "hmac", Algorithm: "md5", Secrets: []string{"s3cret"}})
	fmt.Println(err)
	// Output:
	// header is required for hmac
	// algorithm "md5" is not one of sha1, sha256, sha512
}
