package moysklad

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/moysklad/moyskladtest"
)

// testBundle is a fake MoySklad and a connection to it.
type testBundle struct {
	fake *moyskladtest.Server
	conn *connectors.Connection
}

func setup(t *testing.T, opts ...moyskladtest.Option) *testBundle {
	t.Helper()
	fake := moyskladtest.NewServer(t, opts...)
	return &testBundle{fake: fake, conn: connectortest.NewConnection(connector, map[string]any{
		connToken: fake.Token, connBaseURL: fake.URL, "default_country": "+7"})}
}

func (b *testBundle) invoke(t *testing.T, action string, input map[string]any) (map[string]any, error) {
	t.Helper()
	return b.invokeCall(t, action, connectortest.NewCall(t, input, b.conn))
}

func (b *testBundle) invokeCall(t *testing.T, action string, call *connectors.Call) (map[string]any, error) {
	t.Helper()
	_, def, ok := connectors.NewRegistry().With(connector).Action(action)
	require.True(t, ok)
	out, err := connectortest.Invoke(t.Context(), def, call)
	if err != nil {
		return nil, err
	}
	m, _ := out.(map[string]any)
	return m, nil
}

func TestCreateCounterparty(t *testing.T) {
	t.Parallel()

	t.Run("creates then reuses by email", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		out, err := b.invoke(t, "moysklad.create_counterparty", map[string]any{
			"name": "Анна Петрова", "email": " Ann@Example.com ", "phone": "8 (999) 123-45-67", "utm_source": "yandex"})
		require.NoError(t, err)
		require.Equal(t, true, out[outCreated])
		require.Equal(t, "Анна Петрова", out[outName])
		require.Equal(t, b.fake.Href("counterparty", out[outID].(string)), out[outHref])
		stored := b.fake.Entities("counterparty")
		require.Len(t, stored, 1)
		require.Equal(t, "ann@example.com", stored[0]["email"])
		require.Equal(t, "+79991234567", stored[0]["phone"])
		require.Equal(t, "individual", stored[0]["companyType"])
		require.Equal(t, "Анна", stored[0]["legalFirstName"])
		require.Equal(t, "utm_source: yandex", stored[0]["description"])
		require.NotEmpty(t, stored[0]["externalCode"], "MoySklad generates an externalCode")
		require.NotEmpty(t, stored[0]["syncId"])

		again, err := b.invoke(t, "moysklad.create_counterparty", map[string]any{"name": "Anna P.", "email": "ann@example.com"})
		require.NoError(t, err)
		require.Equal(t, false, again[outCreated])
		require.Equal(t, out[outID], again[outID])
		require.Len(t, b.fake.Entities("counterparty"), 1)
	})

	t.Run("finds a phone stored as typed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		existing := b.fake.AddCounterparty(map[string]any{"name": "Иван", "phone": "8 (999) 765-43-21"})
		b.fake.AddCounterparty(map[string]any{"name": "Другой", "phone": "+7 999 765-43-2"}) // a shorter number
		out, err := b.invoke(t, "moysklad.create_counterparty", map[string]any{"name": "Иван", "phone": "+7 999 765 43 21"})
		require.NoError(t, err)
		require.Equal(t, false, out[outCreated])
		require.Equal(t, existing["id"], out[outID])
		// The search went through filter, with ";" escaped and the digits only.
		var filters []string
		for _, r := range b.fake.Requests() {
			if r.Method == http.MethodGet && r.Path == "entity/counterparty" {
				filters = append(filters, r.Query)
			}
		}
		require.Len(t, filters, 2)
		require.Contains(t, filters[0], "filter=phone~9997654321")
		require.Contains(t, filters[1], "phone%3D8+%28999%29+765-43-21%3B", "the typed forms, OR-ed")
	})

	t.Run("dedupe none creates", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.AddCounterparty(map[string]any{"name": "Ann", "email": "ann@example.com"})
		out, err := b.invoke(t, "moysklad.create_counterparty", map[string]any{"name": "Ann", "email": "ann@example.com", "dedupe": "none"})
		require.NoError(t, err)
		require.Equal(t, true, out[outCreated])
		require.Len(t, b.fake.Entities("counterparty"), 2)
	})

	t.Run("a retry after a lost answer gets the same counterparty", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.DropNext(http.MethodPost, "entity/counterparty", 1)
		call := connectortest.NewCall(t, map[string]any{"name": "Ann", "dedupe": "none"}, b.conn)
		_, err := b.invokeCall(t, "moysklad.create_counterparty", call)
		require.Error(t, err)
		require.False(t, connectors.IsPermanent(err), "a cut answer is retryable: %v", err)
		call.Attempt = 2
		out, err := b.invokeCall(t, "moysklad.create_counterparty", call)
		require.NoError(t, err)
		require.Len(t, b.fake.Entities("counterparty"), 1, "the syncId made the second POST return the first counterparty")
		require.Equal(t, b.fake.Entities("counterparty")[0]["id"], out[outID])
	})

	t.Run("nothing to name it is permanent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.invoke(t, "moysklad.create_counterparty", map[string]any{"utm_source": "x"})
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
	})

	t.Run("bad token is permanent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.conn.Config[connToken] = "ms-wrong-token-000111222"
		_, err := b.invoke(t, "moysklad.create_counterparty", map[string]any{"name": "Ann", "email": "a@b.ru"})
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
		require.Contains(t, err.Error(), "401")
		require.Contains(t, err.Error(), "code 1056")
		require.NotContains(t, err.Error(), "ms-wrong-token-000111222")
	})
}

func TestCreateCustomerOrder(t *testing.T) {
	t.Parallel()

	t.Run("from a lead with the first organization", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		products := b.fake.Entities("product")
		out, err := b.invoke(t, "moysklad.create_customer_order", map[string]any{
			"name": "Анна", "email": "ann@example.com", "description": "С сайта", "utm_campaign": "spring", "state": "подтвержден",
			"positions": []any{
				map[string]any{"assortment": b.fake.Href("product", products[0]["id"].(string)), "quantity": 2, "price": 199000},
				map[string]any{"assortment": b.fake.Href("product", products[1]["id"].(string)), "price": 49000, "discount": 10},
			}})
		require.NoError(t, err)
		require.Equal(t, "00001", out[outName])
		require.EqualValues(t, 2*199000+44100, out[outSum])
		require.Equal(t, true, out[outAgentCreated])
		org := b.fake.Entities("organization")[0]
		require.Equal(t, b.fake.Href("organization", org["id"].(string)), out[outOrganizationHref])
		orders := b.fake.Entities("customerorder")
		require.Len(t, orders, 1)
		require.Equal(t, "С сайта\nutm_campaign: spring", orders[0]["description"])
		require.Contains(t, orders[0]["state"].(map[string]any)["meta"].(map[string]any)["href"], "/metadata/states/")
		require.Len(t, b.fake.Positions(orders[0]["id"].(string)), 2)

		// The same person's second order reuses the counterparty.
		out2, err := b.invoke(t, "moysklad.create_customer_order", map[string]any{"email": "ANN@example.com"})
		require.NoError(t, err)
		require.Equal(t, false, out2[outAgentCreated])
		require.Equal(t, out[outAgentHref], out2[outAgentHref])
		require.Len(t, b.fake.Entities("counterparty"), 1)
	})

	t.Run("a retry after a dropped answer makes no second order", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		agent := b.fake.AddCounterparty(map[string]any{"name": "ООО Клиент"})
		b.fake.DropNext(http.MethodPost, "entity/customerorder", 1)
		call := connectortest.NewCall(t, map[string]any{"agent": b.fake.Href("counterparty", agent["id"].(string))}, b.conn)
		_, err := b.invokeCall(t, "moysklad.create_customer_order", call)
		require.Error(t, err)
		require.False(t, connectors.IsPermanent(err), "%v", err)
		require.Len(t, b.fake.Entities("customerorder"), 1, "the first attempt did create the order")
		call.Attempt = 2
		out, err := b.invokeCall(t, "moysklad.create_customer_order", call)
		require.NoError(t, err)
		orders := b.fake.Entities("customerorder")
		require.Len(t, orders, 1)
		require.Equal(t, orders[0]["id"], out[outID])
		require.Equal(t, syncID("customerorder", call.IdempotencyKey), orders[0]["syncId"])
	})

	t.Run("validation errors carry MoySklad's text and parameter", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		agent := b.fake.AddCounterparty(map[string]any{"name": "X"})
		_, err := b.invoke(t, "moysklad.create_customer_order", map[string]any{
			"agent":     b.fake.Href("counterparty", agent["id"].(string)),
			"positions": []any{map[string]any{"assortment": b.fake.Href("product", "00000000-dead-beef-0000-000000000000")}}})
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
		require.Contains(t, err.Error(), "Товар, указанный в позиции, не найден")
		require.Contains(t, err.Error(), "parameter positions[0].assortment")
		e, ok := asAPIError(err)
		require.True(t, ok)
		require.Equal(t, http.StatusPreconditionFailed, e.Status)
	})

	t.Run("refuses hrefs of another host and unknown states", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.invoke(t, "moysklad.create_customer_order", map[string]any{"agent": "https://evil.example/api/remap/1.2/entity/counterparty/1"})
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
		_, err = b.invoke(t, "moysklad.create_customer_order", map[string]any{"name": "Ann", "state": "Нет такого"})
		require.ErrorContains(t, err, "Новый, Подтвержден, Отгружен")
		require.True(t, connectors.IsPermanent(err))
		require.Empty(t, b.fake.Entities("customerorder"))
	})

	t.Run("too many positions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		positions := make([]any, PositionsMax+1)
		for i := range positions {
			positions[i] = map[string]any{"assortment": b.fake.URL + "/entity/product/x"}
		}
		_, err := b.invoke(t, "moysklad.create_customer_order", map[string]any{"name": "Ann", "positions": positions})
		require.ErrorContains(t, err, "at most 1000")
		require.True(t, connectors.IsPermanent(err))
	})
}

func TestGet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	agent := b.fake.AddCounterparty(map[string]any{"name": "ООО Клиент"})
	out, err := b.invoke(t, "moysklad.create_customer_order", map[string]any{"agent": b.fake.Href("counterparty", agent["id"].(string))})
	require.NoError(t, err)

	got, err := b.invoke(t, "moysklad.get", map[string]any{"href": out[outHref], "expand": "agent"})
	require.NoError(t, err)
	require.Equal(t, out[outID], got["id"])
	require.Equal(t, "ООО Клиент", got["agent"].(map[string]any)["name"], "expand replaced the agent's meta")

	// An href elsewhere never gets the token.
	before := len(b.fake.Requests())
	for _, href := range []string{
		"https://evil.example/api/remap/1.2/entity/customerorder/1",
		strings.Replace(b.fake.URL, "/api/remap/1.2", "/other", 1) + "/x",
		"http://" + strings.TrimPrefix(b.fake.URL, "http://") + "/../../security/token",
	} {
		_, err := b.invoke(t, "moysklad.get", map[string]any{"href": href})
		require.Error(t, err, href)
		require.True(t, connectors.IsPermanent(err), href)
	}
	require.Len(t, b.fake.Requests(), before)

	_, err = b.invoke(t, "moysklad.get", map[string]any{"href": b.fake.Href("customerorder", "00000000-0000-0000-0000-000000000000")})
	require.ErrorContains(t, err, "code 1021")
	require.True(t, connectors.IsPermanent(err))
}

func TestRateLimits(t *testing.T) {
	t.Parallel()

	t.Run("429 code 1049 retries after X-Lognex-Retry-After", func(t *testing.T) {
		t.Parallel()
		b := setup(t, moyskladtest.WithRateLimit(1, 2*time.Second))
		// Another client of the same user spends the window.
		req, _ := http.NewRequest(http.MethodGet, b.fake.URL+"/entity/organization", nil)
		req.Header.Set("Authorization", "Bearer "+b.fake.Token)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		_, err = b.invoke(t, "moysklad.get", map[string]any{"href": b.fake.URL + "/entity/organization"})
		require.Error(t, err)
		require.False(t, connectors.IsPermanent(err))
		require.Contains(t, err.Error(), "code 1049")
		d, ok := connectors.RetryDelay(err)
		require.True(t, ok, "%v", err)
		require.Greater(t, d, time.Duration(0))
		require.LessOrEqual(t, d, 2*time.Second)
	})

	t.Run("an empty window makes the next request wait instead of failing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, moyskladtest.WithRateLimit(2, 300*time.Millisecond))
		start := time.Now()
		for range 5 {
			_, err := b.invoke(t, "moysklad.get", map[string]any{"href": b.fake.URL + "/entity/organization"})
			require.NoError(t, err)
		}
		require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "the limiter waited for a reset")
		for _, r := range b.fake.Requests() {
			require.NotEqual(t, http.StatusTooManyRequests, r.Status)
		}
	})

	t.Run("at most 5 requests in flight per token", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		release := b.fake.Block()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := b.invoke(t, "moysklad.get", map[string]any{"href": b.fake.URL + "/entity/organization"})
				errs <- err
			}()
		}
		require.Eventually(t, func() bool { return b.fake.MaxInFlight() == ParallelMax }, 5*time.Second, 5*time.Millisecond)
		time.Sleep(50 * time.Millisecond) // a sixth request would have arrived by now
		require.Equal(t, ParallelMax, b.fake.MaxInFlight())
		release()
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	})
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, testConnection(t.Context(), b.conn))
	b.conn.Config[connToken] = "ms-revoked-token-123456"
	err := testConnection(context.Background(), b.conn)
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.NotContains(t, err.Error(), "ms-revoked-token-123456")
}

func TestSyncID(t *testing.T) {
	t.Parallel()
	a, b := syncID("customerorder", "run1:step1"), syncID("customerorder", "run1:step1")
	require.Equal(t, a, b)
	require.NotEqual(t, a, syncID("agent", "run1:step1"))
	require.NotEqual(t, a, syncID("customerorder", "run1:step1:0"))
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a)
}
