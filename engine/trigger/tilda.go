package trigger

import (
	"net/url"
	"strings"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/workflow"
)

// presetTilda is the tilda verification preset (signature.TypeTilda); trigger does not
// import signature, which is about verifying, not shaping bodies.
const presetTilda = "tilda"

// PresetOf returns the webhook verification preset of a workflow ("" for none), which
// may shape its trigger.body (see Webhook.Preset).
func PresetOf(def *workflow.Workflow) string {
	if def == nil || def.Trigger.Webhook == nil || def.Trigger.Webhook.Auth == nil {
		return ""
	}
	return def.Trigger.Webhook.Auth.Type
}

// shapeBody applies a preset's adjustments to a decoded body.
func shapeBody(preset string, v any) any {
	if preset == presetTilda {
		return tildaBody(v)
	}
	return v
}

// tildaBody makes a Tilda form easier to use: payment, which Tilda sends as a JSON
// string, becomes the object it holds, and the UTM fields Tilda keeps in its TILDAUTM
// cookie (sent in COOKIES when "send cookies" is on) fill utm_* fields the form did not
// send itself. Anything that does not parse is left as sent.
func tildaBody(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if s, ok := m["payment"].(string); ok {
		if p, err := connectors.DecodeJSON([]byte(s)); err == nil {
			switch p.(type) {
			case map[string]any, []any:
				m["payment"] = p
			}
		}
	}
	if c, ok := m["COOKIES"].(string); ok {
		for k, val := range tildaUTM(c) {
			if _, set := m[k]; !set {
				m[k] = val
			}
		}
	}
	return m
}

// tildaUTM reads the utm_* parameters from the TILDAUTM cookie in a cookie string
// ("a=1; TILDAUTM=utm_source%3Dvk%7C%7C%7Cutm_medium%3Dcpc%7C%7C%7C"). Tilda's script
// stores the page's own utm_ query parameters there, joined by "|||", and encodes the
// whole; each value is still encoded as it was in the page's URL.
func tildaUTM(cookies string) map[string]string {
	out := map[string]string{}
	for part := range strings.SplitSeq(cookies, ";") {
		name, raw, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name != "TILDAUTM" {
			continue
		}
		decoded, err := url.QueryUnescape(raw)
		if err != nil {
			return out
		}
		for pair := range strings.SplitSeq(decoded, "|||") {
			k, val, ok := strings.Cut(pair, "=")
			if !ok || !strings.HasPrefix(k, "utm_") || val == "" {
				continue
			}
			if v, err := url.QueryUnescape(val); err == nil {
				val = v
			}
			out[k] = val
		}
	}
	return out
}
