package trigger

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/workflow"
)

func TestTildaBody(t *testing.T) {
	t.Parallel()
	const form = "application/x-www-form-urlencoded"
	payment := `{"orderid":"1234567890","amount":"1500","products":[{"name":"Course","quantity":1,"amount":1500}]}`
	cookies := "_ga=GA1.2.3; TILDAUTM=utm_source%3Dyandex%7C%7C%7Cutm_medium%3Dcpc%7C%7C%7Cutm_term%3D%25D0%25BA%25D1%2580%25D0%25BC%7C%7C%7C; tildauid=1"
	body := "Name=Ann&Email=ann%40example.com&Phone=%2B79991234567&formid=form1&tranid=1%3A2" +
		"&utm_source=vk&payment=" + urlEscape(payment) + "&COOKIES=" + urlEscape(cookies)

	wh := Webhook{ContentType: form, Body: []byte(body), Preset: "tilda"}
	got := wh.Env()["body"].(map[string]any)
	require.Equal(t, map[string]any{"orderid": "1234567890", "amount": "1500",
		"products": []any{map[string]any{"name": "Course", "quantity": int64(1), "amount": int64(1500)}}}, got["payment"])
	require.Equal(t, "vk", got["utm_source"], "a field the form sent wins over the cookie")
	require.Equal(t, "cpc", got["utm_medium"])
	require.Equal(t, "крм", got["utm_term"], "values are decoded twice, as Tilda encodes them twice")
	require.Equal(t, "Ann", got["Name"])
	require.Equal(t, cookies, got["COOKIES"], "COOKIES stays as sent")

	wh.Preset = ""
	plain := wh.Env()["body"].(map[string]any)
	require.Equal(t, payment, plain["payment"], "other presets leave the body alone")
	require.NotContains(t, plain, "utm_medium")

	for _, tt := range []struct{ name, body string }{
		{"payment not json", "payment=%7Bnot+json&tranid=1"},
		{"payment a number", "payment=15&tranid=1"},
		{"cookie badly encoded", "COOKIES=TILDAUTM%3D%25zz&tranid=1"},
	} {
		wh := Webhook{ContentType: form, Body: []byte(tt.body), Preset: "tilda"}
		got := wh.Env()["body"].(map[string]any)
		raw := Webhook{ContentType: form, Body: []byte(tt.body)}
		require.Equal(t, raw.Env()["body"], got, tt.name)
	}
	list := Webhook{ContentType: "application/json", Body: []byte(`["a"]`), Preset: "tilda"}
	require.Equal(t, []any{"a"}, list.Env()["body"], "a body that is not an object is left alone")
}

func TestPresetOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, "", PresetOf(nil))
	require.Equal(t, "", PresetOf(&workflow.Workflow{Trigger: workflow.Trigger{Type: "webhook"}}))
	require.Equal(t, "tilda", PresetOf(&workflow.Workflow{Trigger: workflow.Trigger{Type: "webhook",
		Webhook: &workflow.WebhookTrigger{Auth: &workflow.WebhookAuth{Type: "tilda"}}}}))
}

func TestMaskFormField(t *testing.T) {
	t.Parallel()
	const form = "application/x-www-form-urlencoded; charset=utf-8"
	require.Equal(t, "Name=Ann&apikey=******&tranid=1%3A2",
		string(MaskFormField(form, []byte("Name=Ann&apikey=s3cret&tranid=1%3A2"), "apikey")))
	require.Equal(t, "api%5Fkey=******", string(MaskFormField(form, []byte("api%5Fkey=s3cret"), "api_key")), "names are decoded")
	require.Equal(t, "Name=Ann", string(MaskFormField(form, []byte("Name=Ann"), "apikey")))
	require.Equal(t, `{"apikey":"s3cret"}`, string(MaskFormField("application/json", []byte(`{"apikey":"s3cret"}`), "apikey")))
}

func urlEscape(s string) string { return url.QueryEscape(s) }
