package templates_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/expr"
	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/workflows/templates"
)

// TestTemplatesRender evaluates each template's filter and renders its steps' inputs with
// the engine's expression package, on the kind of event its description says it gets,
// so that a template that validates also reads its data the way the sender sends it.
func TestTemplatesRender(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		id      string
		trigger map[string]any
		outputs map[string]any // step id → output, for later steps
		want    map[string]map[string]any
	}{
		{
			id: "github-push-telegram",
			trigger: map[string]any{
				"headers": map[string]any{"x-github-event": "push"},
				"body": map[string]any{
					"ref": "refs/heads/main", "compare": "https://github.com/acme/app/compare/a...b",
					"repository": map[string]any{"full_name": "acme/app"}, "pusher": map[string]any{"name": "ann"},
					"commits": []any{map[string]any{"message": "Fix crash on save\n\nLong body"}, map[string]any{"message": "Bump version"}},
				},
			},
			want: map[string]map[string]any{"notify": {
				"chat_id": int64(-1001234567890),
				"text":    "ann pushed 2 commit(s) to acme/app (main):\n• Fix crash on save\n• Bump version\nhttps://github.com/acme/app/compare/a...b",
			}},
		},
		{
			id: "stripe-payment-email-receipt",
			trigger: map[string]any{"body": map[string]any{
				"id": "evt_1", "type": "checkout.session.completed", "created": int64(1714558830),
				"data": map[string]any{"object": map[string]any{
					"id": "cs_1", "payment_status": "paid", "amount_total": int64(2505), "currency": "usd",
					"payment_intent": "pi_1", "customer_details": map[string]any{"email": " Ann@Example.com ", "name": "Ann Lee"},
				}},
			}},
			outputs: map[string]any{"shop": map[string]any{"name": "Acme Store", "reply_to": "support@example.com"}},
			want: map[string]map[string]any{
				"shop": {"name": "Acme Store", "reply_to": "support@example.com"},
				"receipt": {
					"to": "ann@example.com", "reply_to": "support@example.com", "subject": "Your receipt from Acme Store",
					"text": "Hello Ann Lee,\n\nthank you for your payment of 25.05 USD to Acme Store.\n\nPayment reference: pi_1\nDate: 2024-05-01\n\nAcme Store",
				},
			},
		},
		{
			id:      "schedule-http-report-email",
			trigger: map[string]any{"type": "schedule", "scheduled_at": "2024-05-01T21:30:00Z", "timezone": "Europe/Moscow"},
			outputs: map[string]any{"report": map[string]any{"status": int64(200), "body": map[string]any{"open": int64(3)}}},
			want: map[string]map[string]any{
				"report": {"method": "GET", "url": "/reports/daily"},
				"mail":   {"to": "team@example.com", "subject": "Report for 2024-05-02", "text": "{\n  \"open\": 3\n}"},
			},
		},
		{
			id:      "poll-api-telegram",
			trigger: map[string]any{"type": "poll", "item": map[string]any{"id": int64(42), "title": "Order 42"}},
			want: map[string]map[string]any{"notify": {
				"chat_id": int64(-1001234567890), "text": "New order 42: ",
			}},
		},
		{
			id: "failed-run-alert-telegram",
			trigger: map[string]any{"type": "failure", "kind": "run", "workflow": map[string]any{"id": "w1", "name": "Leads"},
				"error": "step lead: after 5 attempts: 503", "run_id": "r1", "step": "lead"},
			want: map[string]map[string]any{"alert": {
				"chat_id": int64(-1009876543210),
				"text":    "⚠️ Leads failed (run r1, step lead):\nstep lead: after 5 attempts: 503",
			}},
		},
		{
			id: "failed-run-alert-telegram",
			trigger: map[string]any{"type": "failure", "kind": "poll", "workflow": map[string]any{"id": "w1", "name": "Orders"},
				"error": "http.poll: 500", "consecutive_failures": int64(5)},
			want: map[string]map[string]any{"alert": {
				"chat_id": int64(-1009876543210),
				"text":    "⚠️ Orders failed (its poll failed 5 times in a row):\nhttp.poll: 500",
			}},
		},
	} {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			tpl, ok := templates.Get(tc.id)
			require.True(t, ok)
			doc, err := templates.Instantiate(tc.id, sampleParams(tpl))
			require.NoError(t, err)
			def, err := workflow.Parse(doc)
			require.NoError(t, err)

			steps := map[string]any{}
			for id, out := range tc.outputs {
				steps[id] = map[string]any{"status": "succeeded", "output": out}
			}
			env := map[string]any{"trigger": tc.trigger, "steps": steps,
				"run": map[string]any{"id": "r", "attempt": int64(1)}, "workflow": map[string]any{"id": "w", "name": def.Name}}
			if def.Filter != "" {
				f, err := expr.Compile(def.Filter)
				require.NoError(t, err)
				pass, err := f.EvalBool(t.Context(), env)
				require.NoError(t, err)
				require.True(t, pass, "the filter lets the sample through")
			}
			for _, st := range def.Steps {
				want, ok := tc.want[st.ID]
				if !ok {
					continue
				}
				v, err := expr.CompileValue(st.With)
				require.NoError(t, err)
				got, err := v.Render(t.Context(), env)
				require.NoError(t, err, st.ID)
				for k, w := range want {
					require.Equal(t, w, got.(map[string]any)[k], "%s.%s", st.ID, k)
				}
			}
		})
	}
}
