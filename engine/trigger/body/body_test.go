package body

import (
	"bytes"
	"encoding/base64"
	"math"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOptionsWithDefaults(t *testing.T) {
	t.Parallel()
	require.Equal(t, Options{MaxFileBytes: MaxFileBytesDefault, MaxFields: MaxFieldsDefault, MaxDepth: MaxDepthDefault},
		Options{}.WithDefaults())
	require.Equal(t, Options{MaxFileBytes: MaxFileBytesDefault, MaxFields: MaxFieldsDefault, MaxDepth: MaxDepthDefault},
		Options{MaxFileBytes: -1, MaxFields: -1, MaxDepth: -1}.WithDefaults())
	require.Equal(t, Options{MaxFileBytes: 1, MaxFields: 2, MaxDepth: 3}, Options{MaxFileBytes: 1, MaxFields: 2, MaxDepth: 3}.WithDefaults())
}

func TestDecodeFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ contentType, body, want string }{
		{"application/json", `{}`, FormatJSON},
		{"Application/JSON; charset=utf-8", `{}`, FormatJSON},
		{"application/problem+json", `{}`, FormatJSON},
		{"application/json; charset", `{}`, FormatJSON},
		{"application/x-www-form-urlencoded", "a=1", FormatForm},
		{"multipart/form-data; boundary=b", "--b--", FormatMultipart},
		{"application/xml", "<a/>", FormatXML},
		{"text/xml", "<a/>", FormatXML},
		{"application/atom+xml", "<a/>", FormatXML},
		{"text/plain", "x", FormatText},
		{"", "x", FormatText},
		{"not a type", "x", FormatText},
		{"multipart/mixed; boundary=b", "--b--", FormatText},
		{"application/json", "", FormatNone},
	} {
		require.Equal(t, tc.want, Decode(tc.contentType, []byte(tc.body), Options{}).Format, "%q", tc.contentType)
	}
}

func TestDecodeJSONKeepsNumbers(t *testing.T) {
	t.Parallel()
	r := Decode("application/json", []byte(`{"n":150,"f":1.5,"one":1.0,"big":12345678901234567890,"l":[1,"a"]}`), Options{})
	require.Equal(t, Result{Format: FormatJSON, Value: map[string]any{
		"n": int64(150), "f": 1.5, "one": 1.0, "big": "12345678901234567890", "l": []any{int64(1), "a"},
	}}, r)

	r = Decode("application/json", []byte(`{"a":`), Options{})
	require.Equal(t, Result{Format: FormatJSON, Value: `{"a":`, Malformed: true}, r)
}

func TestDecodeText(t *testing.T) {
	t.Parallel()
	require.Equal(t, Result{Format: FormatText, Value: "héllo"}, Decode("text/plain", []byte("héllo"), Options{}))
	require.Equal(t, Result{Format: FormatText, Value: "h\uFFFDllo", Malformed: true},
		Decode("text/plain; charset=latin1", []byte("h\xe9llo"), Options{}), "invalid UTF-8 is replaced and flagged")
	require.Equal(t, Result{Format: FormatXML, Value: "<a>\uFFFD</a>", Malformed: true},
		Decode("application/xml", []byte("<a>\xff</a>"), Options{}))
	require.Equal(t, Result{Format: FormatJSON, Value: "{\uFFFD", Malformed: true},
		Decode("application/json", []byte("{\xff"), Options{}), "the text of a malformed body is valid UTF-8 too")
}

func TestDecodeForm(t *testing.T) {
	t.Parallel()
	r := Decode("application/x-www-form-urlencoded", []byte("a[]=1&a[]=2"), Options{})
	require.Equal(t, Result{Format: FormatForm, Value: map[string]any{"a": []any{"1", "2"}}}, r)

	r = Decode("application/x-www-form-urlencoded", []byte("a=%zz"), Options{})
	require.Equal(t, Result{Format: FormatForm, Value: "a=%zz", Malformed: true}, r)

	r = Decode("application/x-www-form-urlencoded", []byte("a=1&b=2"), Options{MaxFields: 1})
	require.Equal(t, Result{Format: FormatForm, Value: map[string]any{"a": "1"}, Truncated: true}, r)
}

// multipartBody writes parts with mime/multipart, as a client would.
func multipartBody(t *testing.T, write func(w *multipart.Writer)) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	write(w)
	require.NoError(t, w.Close())
	return w.FormDataContentType(), buf.Bytes()
}

func TestDecodeMultipart(t *testing.T) {
	t.Parallel()
	small := []byte("small file")
	large := bytes.Repeat([]byte{0xff}, int(MaxFileBytesDefault)+1)
	exact := bytes.Repeat([]byte("x"), int(MaxFileBytesDefault))
	contentType, raw := multipartBody(t, func(w *multipart.Writer) {
		require.NoError(t, w.WriteField("title", "Order #1"))
		require.NoError(t, w.WriteField("contact[phones][]", "+7 999"))
		require.NoError(t, w.WriteField("contact[phones][]", "+7 888"))
		require.NoError(t, w.WriteField("bad", "\xff"))
		for name, data := range map[string][]byte{"small": small, "large": large, "exact": exact} {
			f, err := w.CreateFormFile("files["+name+"]", "dir/"+name+".bin")
			require.NoError(t, err)
			_, err = f.Write(data)
			require.NoError(t, err)
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `attachment; name="x"`)
		p, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = p.Write([]byte("not form-data"))
		require.NoError(t, err)
	})

	r := Decode(contentType, raw, Options{})
	require.False(t, r.Malformed)
	require.True(t, r.Truncated, "the large file's content is left out")
	require.Equal(t, map[string]any{
		"title":   "Order #1",
		"contact": map[string]any{"phones": []any{"+7 999", "+7 888"}},
		"bad":     "\uFFFD",
		"files": map[string]any{
			"small": map[string]any{"filename": "small.bin", "content_type": "application/octet-stream",
				"size": int64(len(small)), "content_base64": base64.StdEncoding.EncodeToString(small)},
			"exact": map[string]any{"filename": "exact.bin", "content_type": "application/octet-stream",
				"size": int64(len(exact)), "content_base64": base64.StdEncoding.EncodeToString(exact)},
			"large": map[string]any{"filename": "large.bin", "content_type": "application/octet-stream",
				"size": int64(len(large))},
		},
		"": "not form-data",
	}, r.Value)

	r = Decode(contentType, raw, Options{MaxFileBytes: math.MaxInt64})
	require.Contains(t, r.Value.(map[string]any)["files"].(map[string]any)["large"], "content_base64",
		"the largest limit does not overflow")

	r = Decode(contentType, raw, Options{MaxFields: 2})
	require.True(t, r.Truncated)
	require.Equal(t, map[string]any{"title": "Order #1", "contact": map[string]any{"phones": []any{"+7 999"}}}, r.Value)
}

func TestDecodeMultipartMalformed(t *testing.T) {
	t.Parallel()
	contentType, raw := multipartBody(t, func(w *multipart.Writer) {
		require.NoError(t, w.WriteField("a", "1"))
	})
	for name, tc := range map[string]struct {
		contentType string
		raw         string
	}{
		"cut short":          {contentType, string(raw[:len(raw)-10])},
		"no boundary param":  {"multipart/form-data", string(raw)},
		"other boundary":     {"multipart/form-data; boundary=zzz", string(raw)},
		"bad part header":    {"multipart/form-data; boundary=b", "--b\r\nno colon here\r\n\r\nx\r\n--b--\r\n"},
		"garbage":            {"multipart/form-data; boundary=b", "hello"},
		"bad content params": {"multipart/form-data; boundary", string(raw)},
	} {
		r := Decode(tc.contentType, []byte(tc.raw), Options{})
		require.Equal(t, Result{Format: FormatMultipart, Value: tc.raw, Malformed: true}, r, name)
	}

	r := Decode("multipart/form-data; boundary=b", []byte("--b--\r\n"), Options{})
	require.Equal(t, Result{Format: FormatMultipart, Value: map[string]any{}}, r, "no parts is an empty object")
	require.True(t, strings.HasPrefix(contentType, "multipart/form-data; boundary="))
}
