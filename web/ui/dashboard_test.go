package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web"
)

// pageMax is the most HTML a page may send (issue 13).
const pageMax = 100 << 10

// crmAPI answers 200 to a lead, and 500 with a long error page to a lead whose body
// says "fail" and to every poll of its deals.
func crmAPI(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/deals" {
			http.Error(w, "deals feed down for maintenance", http.StatusInternalServerError)
			return
		}
		var lead struct{ Fail bool }
		_ = json.NewDecoder(r.Body).Decode(&lead)
		if lead.Fail {
			http.Error(w, "upstream database unavailable: "+strings.Repeat("stack frame; ", 400), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":1}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// leadWorkflow posts each lead to the CRM once: a 500 fails the run at once.
func leadWorkflow(t *testing.T, b *testBundle, crm string) *engine.Workflow {
	t.Helper()
	wf, err := b.eng.CreateWorkflow(context.Background(), []byte(fmt.Sprintf(`{"name": "Leads to CRM", "trigger": {"type": "webhook"},
	  "steps": [{"id": "crm", "uses": "http.request", "retry": {"max_attempts": 1},
	    "with": {"url": %q, "method": "POST", "body": {"fail": "{{ trigger.body.fail }}"}}}]}`, crm+"/leads")))
	require.NoError(t, err)
	return wf
}

// sendWebhook posts a JSON body to a workflow's webhook as a sender would, and returns
// the run it started.
func sendWebhook(t *testing.T, b *testBundle, wf *engine.Workflow, body string) string {
	t.Helper()
	res, err := http.Post(b.srv.URL+"/hooks/"+wf.HookToken, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	var ids struct {
		RunID string `json:"run_id"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&ids))
	return ids.RunID
}

var barRE = regexp.MustCompile(`<g class="bar">`)

// TestDashboardShowsRuns sends real webhooks that succeed and fail through an HTTP step,
// and reads the dashboard in English and Russian.
func TestDashboardShowsRuns(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{}, withWorkers(1))
		crm := crmAPI(t)
		wf := leadWorkflow(t, b, crm.URL)
		feed, err := b.eng.CreateWorkflow(context.Background(), []byte(fmt.Sprintf(`{"name": "New deals feed",
		  "trigger": {"type": "poll", "poll": {"uses": "http.poll", "cron": "@every 1h",
		    "with": {"url": %q, "items": "body.data"}, "key": "item.id"}},
		  "steps": [{"id": "got", "uses": "core.set", "with": {"id": "{{ trigger.item.id }}"}}]}`, crm.URL+"/deals")))
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			st, err := b.eng.GetTriggerState(context.Background(), feed.ID)
			require.NoError(t, err)
			return st.ConsecutiveFailures > 0
		}, 20*time.Second, 10*time.Millisecond, "the feed's first poll fails")
		var failed []string
		for i := range 15 {
			fail := i%5 != 0 // 3 succeed, 12 fail
			id := sendWebhook(t, b, wf, fmt.Sprintf(`{"fail": %t}`, fail))
			run := enginetest.WaitRun(t, b.eng.Engine, id)
			if fail {
				require.Equal(t, engine.RunFailed, run.Status)
				failed = append(failed, id)
			} else {
				require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
			}
		}

		br := b.browser(t)
		require.Equal(t, http.StatusSeeOther, br.login(adminEmail, adminPassword, "/").status)
		p := br.get("/")
		require.Equal(t, http.StatusOK, p.status)
		require.LessOrEqual(t, len(p.body), pageMax, "the page stays small with many long errors")
		t.Logf("dashboard page: %d bytes", len(p.body))
		require.Contains(t, p.body, "15 runs")
		require.Contains(t, p.body, "12 failed")
		require.Contains(t, p.body, `<svg class="chart runs-chart"`)
		require.Contains(t, p.body, `role="img" aria-label="Runs per hour over the last 24 hours: 15 runs. Succeeded: 3, Failed: 12."`)
		require.Len(t, barRE.FindAllString(p.body, -1), 24)
		require.Contains(t, p.body, `class="s-succeeded"`)
		require.Contains(t, p.body, `class="s-failed"`)
		require.Contains(t, p.body, `<a href="/?range=24h" aria-current="page">Last 24 hours</a>`)

		require.Contains(t, p.body, "Recent failures")
		for i, id := range failed {
			newest := len(failed)-1-i < 10
			require.Equal(t, newest, strings.Contains(p.body, `href="/runs/`+id+`"`), "run %d of the failures: only the latest 10", i)
		}
		require.Contains(t, p.body, `href="/workflows/`+wf.ID+`">Leads to CRM</a>`)
		require.Contains(t, p.body, "upstream database unavailable")
		require.Contains(t, p.body, "…</p>", "a long error is cut")
		require.Contains(t, p.body, `href="/runs?status=failed"`)
		require.Contains(t, p.body, "0 runs ready")
		require.Contains(t, p.body, `<a href="#failing-polls">1 poll failing</a>`)
		require.Contains(t, p.body, `href="/workflows/`+feed.ID+`">New deals feed</a>`)
		require.Contains(t, p.body, "1 failure in a row")
		require.Contains(t, p.body, "deals feed down for maintenance")

		week := br.get("/?range=7d")
		require.Equal(t, http.StatusOK, week.status)
		require.Len(t, barRE.FindAllString(week.body, -1), 28)
		require.Contains(t, week.body, `<a href="/?range=7d" aria-current="page">Last 7 days</a>`)
		require.Contains(t, week.body, "Runs per 6 hours over the last 7 days: 15 runs.")

		ru := br.do(http.MethodGet, "/", nil, map[string]string{"Accept-Language": "ru-RU,ru;q=0.9"})
		require.Equal(t, http.StatusOK, ru.status)
		require.Contains(t, ru.body, `<html lang="ru">`)
		require.Contains(t, ru.body, "15 запусков")
		require.Contains(t, ru.body, "12 неудачных")
		require.Contains(t, ru.body, "Последние ошибки")
		require.Contains(t, ru.body, "Успешно: 3, С ошибкой: 12")
		require.Contains(t, ru.body, "0 запусков в очереди")
		require.Contains(t, ru.body, "Последние 24 часа")
		require.Contains(t, ru.body, "1 опрос с ошибкой")
		require.Contains(t, ru.body, "1 ошибка подряд")
		require.LessOrEqual(t, len(ru.body), pageMax)
	})
}

// TestDashboardEmpty: a fresh installation says there is nothing yet.
func TestDashboardEmpty(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	br := b.browser(t)
	require.Equal(t, http.StatusSeeOther, br.login(adminEmail, adminPassword, "/").status)
	p := br.get("/?range=nonsense")
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, "No runs yet in this period.")
	require.Contains(t, p.body, "No failed runs in this period.")
	require.Contains(t, p.body, "No poll is failing.")
	require.NotContains(t, p.body, "<svg")
	require.Contains(t, p.body, `<a href="/?range=24h" aria-current="page">`, "an unknown range shows 24 hours")
	ru := br.do(http.MethodGet, "/?range=7d", nil, map[string]string{"Accept-Language": "ru"})
	require.Contains(t, ru.body, "За этот период запусков пока нет.")
}

// setTimeZone sets a user's time zone through the engine, as the account page does.
func setTimeZone(t *testing.T, b *testBundle, email, zone string) {
	t.Helper()
	ctx := context.Background()
	users, err := b.eng.ListUsers(ctx)
	require.NoError(t, err)
	for _, u := range users {
		if u.Email == email {
			_, err := b.eng.UpdateAccount(engine.WithActor(ctx, &engine.Actor{UserID: u.ID, Email: u.Email, Role: u.Role, Via: "ui"}),
				engine.AccountPatch{TimeZone: &zone})
			require.NoError(t, err)
			return
		}
	}
	t.Fatalf("no user %s", email)
}

var (
	axisLabelRE = regexp.MustCompile(`dominant-baseline="hanging">([^<]+)</text>`)
	barTitleRE  = regexp.MustCompile(`<g class="bar"><title>([^<]+)</title>`)
)

// TestDashboardTimeZone: the chart's hours, its bars' titles and the queue's times are
// in the user's zone, and the queue shows the oldest waiting run's age.
func TestDashboardTimeZone(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{}) // no workers: the run stays queued
	wf := leadWorkflow(t, b, "http://127.0.0.1:9")
	sendWebhook(t, b, wf, `{}`)
	queuedAt := b.clock.Now()
	b.clock.Advance(5*time.Minute + 3*time.Second)
	sendWebhook(t, b, wf, `{}`)

	for _, zone := range []string{"Asia/Vladivostok", "America/New_York", "Asia/Kolkata"} {
		t.Run(zone, func(t *testing.T) {
			loc, err := time.LoadLocation(zone)
			require.NoError(t, err)
			setTimeZone(t, b, adminEmail, zone)
			br := b.browser(t)
			require.Equal(t, http.StatusSeeOther, br.login(adminEmail, adminPassword, "/").status)
			p := br.get("/")
			require.Equal(t, http.StatusOK, p.status)
			require.Contains(t, p.body, "Times are in "+zone+".")

			now := b.clock.Now().In(loc)
			hour := time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), 0, 0, 0, loc)
			var wantAxis []string
			for i := 23; i >= 0; i-- {
				if h := hour.Add(-time.Duration(i) * time.Hour); h.Hour()%3 == 0 {
					wantAxis = append(wantAxis, h.Format("15:04"))
				}
			}
			var axis []string
			for _, m := range axisLabelRE.FindAllStringSubmatch(p.body, -1) {
				axis = append(axis, m[1])
			}
			require.Equal(t, wantAxis, axis, "the times' axis in %s", zone)

			titles := barTitleRE.FindAllStringSubmatch(p.body, -1)
			require.Len(t, titles, 24)
			last := titles[23][1]
			require.True(t, strings.HasPrefix(last, hour.Format("15:04")+"–"+hour.Add(time.Hour).Format("15:04")+": "), last)
			if hour.Equal(time.Date(queuedAt.In(loc).Year(), queuedAt.In(loc).Month(), queuedAt.In(loc).Day(), queuedAt.In(loc).Hour(), 0, 0, 0, loc)) {
				require.Contains(t, last, "In progress: 2")
			}

			require.Contains(t, p.body, "2 runs ready")
			require.Contains(t, p.body, ">5 min 3 s</time>", "the oldest queued run's age")
			require.Contains(t, p.body, `title="`+queuedAt.In(loc).Format("2006-01-02 15:04:05")+`"`, "its time in the zone")

			week := br.get("/?range=7d")
			titles = barTitleRE.FindAllStringSubmatch(week.body, -1)
			require.Len(t, titles, 28)
			block := time.Date(now.Year(), now.Month(), now.Day(), now.Hour()-now.Hour()%6, 0, 0, 0, loc)
			require.Contains(t, titles[27][1], block.Format("15:04")+"–"+block.Add(6*time.Hour).Format("15:04"), "six-hour blocks of the zone's day")
		})
	}
}
