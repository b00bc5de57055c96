package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/moysklad/moyskladtest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
)

// shopHookSecret is the secret MoySklad carries in the webhook URL's query.
const shopHookSecret = "moysklad-hook-secret-77"

// newShop starts a fake MoySklad and makes its connections: "shop" (the token) and
// "shop-hook" (the secret of the workflow's webhook).
func newShop(t *testing.T, app *webtest.App) *moyskladtest.Server {
	t.Helper()
	shop := moyskladtest.NewServer(t)
	for _, body := range []string{
		fmt.Sprintf(`{"name": "shop", "connector": "moysklad", "config": {"token": %q, "base_url": %q}}`, shop.Token, shop.URL),
		fmt.Sprintf(`{"name": "shop-hook", "connector": "webhook", "config": {"secret": %q}}`, shopHookSecret),
	} {
		res := app.Do(t, http.MethodPost, "/api/v1/connections", body, true, nil)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
	}
	return shop
}

// TestMoySkladOrderWebhook subscribes a workflow to new customer orders through the
// connection webhook endpoint; a new order in the fake MoySklad is posted to it, the
// workflow reads the order by its meta.href (for_each over the events) and tells Telegram.
// A redelivery with the same requestId starts nothing.
func TestMoySkladOrderWebhook(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	shop := newShop(t, app)
	bot := newBot(t, app)
	wf := app.CreateWorkflow(t, `{"name": "New MoySklad orders to Telegram",
	  "trigger": {"type": "webhook", "webhook": {
	    "auth": {"type": "token", "query": "key", "connection": "shop-hook"},
	    "dedupe": "trigger.query.requestId",
	    "response": {"mode": "custom", "status": 200, "body": "OK"}}},
	  "steps": [
	    {"id": "orders", "uses": "moysklad.get", "connection": "shop", "for_each": "trigger.body.events",
	     "with": {"href": "{{ item.meta.href }}", "expand": "agent"}},
	    {"id": "notify", "uses": "telegram.send_message", "connection": "bot", "for_each": "steps.orders.output",
	     "with": {"chat_id": 42, "text": "Order {{ item.name }} from {{ item.agent.name }}: {{ item.sum / 100 }} RUB"}}]}`)
	id := wf["id"].(string)

	res := app.Do(t, http.MethodPost, "/api/v1/connections/shop/webhook",
		`{"workflow_id": "`+id+`", "options": {"entity_type": "customerorder", "action": "CREATE"}}`, true, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.NotContains(t, res.Body, shopHookSecret, "the answer holds no secret")
	hooks := shop.Entities("webhook")
	require.Len(t, hooks, 1)
	require.Equal(t, wf["webhook_url"].(string)+"?key="+shopHookSecret, hooks[0]["url"])
	require.Equal(t, "customerorder", hooks[0]["entityType"])

	order := shop.CreateOrder("Анна Петрова", 2)
	ds, err := shop.WaitDeliveries(t.Context(), 1)
	require.NoError(t, err)
	require.True(t, ds[0].Delivered, "%+v", ds[0].Attempts)
	require.Equal(t, http.StatusOK, ds[0].Attempts[0].Status)
	waitMessage(t, bot, fmt.Sprintf("Order %s from Анна Петрова: 3980 RUB", order["name"]))

	// MoySklad's retry of the same request: answered, not run again.
	again := shop.Redeliver(t.Context(), ds[0])
	require.True(t, again.Delivered)
	counts := app.Settle(t)
	require.EqualValues(t, 1, counts.Runs[engine.RunSucceeded], "%v", counts.Runs)
	require.Len(t, bot.Messages(), 1)

	// A delivery without the secret is refused.
	forged := app.Do(t, http.MethodPost, wf["webhook_url"].(string)+"?requestId=x", `{"events": []}`, false, nil)
	require.Equal(t, http.StatusUnauthorized, forged.Status, forged.Body)

	res = app.Do(t, http.MethodDelete, "/api/v1/connections/shop/webhook?workflow_id="+id, "", true, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Empty(t, shop.Entities("webhook"))
}

// TestMoySkladOrderRetryAfterDrop: the fake creates the order and then cuts the
// connection in the middle of its answer; the runner retries the step with the same
// syncId, and MoySklad answers with the order already created: one order, one run.
func TestMoySkladOrderRetryAfterDrop(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	shop := newShop(t, app)
	wf := app.CreateWorkflow(t, `{"name": "Site order to MoySklad",
	  "trigger": {"type": "webhook"},
	  "steps": [{"id": "order", "uses": "moysklad.create_customer_order", "connection": "shop",
	    "retry": {"max_attempts": 3, "initial": "10ms", "max": "50ms"},
	    "with": {"name": "{{ trigger.body.name }}", "email": "{{ trigger.body.email }}", "description": "From the site"}}]}`)
	shop.DropNext(http.MethodPost, "entity/customerorder", 1)

	res := app.Do(t, http.MethodPost, wf["webhook_url"].(string), `{"name": "Ann Lee", "email": "ann@example.com"}`, false,
		map[string]string{"Content-Type": "application/json"})
	require.Less(t, res.Status, 300, res.Body)
	// The retry waits in the database first: wait for the run to finish, not to settle.
	require.Eventually(t, func() bool {
		c, err := app.Engine.Count(t.Context())
		require.NoError(t, err)
		return c.Runs[engine.RunSucceeded] == 1
	}, 20*time.Second, 20*time.Millisecond)
	orders := shop.Entities("customerorder")
	require.Len(t, orders, 1, "the retry found the order by its syncId")
	require.Len(t, shop.Entities("counterparty"), 1)
	posts := 0
	for _, r := range shop.Requests() {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Path, "entity/customerorder") {
			posts++
		}
	}
	require.Equal(t, 2, posts, "the step was tried twice")
}
