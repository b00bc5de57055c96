package trigger

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMaskHeaders(t *testing.T) {
	t.Parallel()
	got := MaskHeaders(map[string]string{
		"authorization": "Bearer x", "cookie": "s=1", "x-hub-signature-256": "sha256=ab",
		"x-my-sig": "abc", "content-type": "application/json",
	}, "X-My-Sig")
	require.Equal(t, map[string]string{
		"authorization": Masked, "cookie": Masked, "x-hub-signature-256": Masked,
		"x-my-sig": Masked, "content-type": "application/json",
	}, got)
}

func TestMaskQuery(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a=1&token=%2A%2A%2A%2A%2A%2A", MaskQuery("token=s3cret&a=1", "token"))
	require.Equal(t, "a=1", MaskQuery("a=1", "token"))
	require.Equal(t, "", MaskQuery("", "token"))
}
