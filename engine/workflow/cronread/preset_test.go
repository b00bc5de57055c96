package cronread_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/engine/workflow/cronread"
)

func TestPresetSpec(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind string
		p    cronread.Params
		spec string
		en   string
	}{
		{"every_minutes", cronread.Params{Every: 15}, "*/15 * * * *", "Every 15 minutes"},
		{"every_minutes", cronread.Params{Every: 1}, "* * * * *", "Every minute"},
		{"every_minutes", cronread.Params{Every: 7}, "@every 7m", "Every 7 minutes"},
		{"every_minutes", cronread.Params{Every: 90}, "@every 90m", "Every 90 minutes"},
		{"hourly", cronread.Params{Minute: 30}, "30 * * * *", "At minute 30 past every hour"},
		{"daily", cronread.Params{Hour: 9, Minute: 5}, "5 9 * * *", "Every day at 09:05"},
		{"weekdays", cronread.Params{Hour: 9}, "0 9 * * 1-5", "At 09:00 on Monday through Friday"},
		{"weekly", cronread.Params{Weekday: time.Sunday, Hour: 20, Minute: 30}, "30 20 * * 0", "At 20:30 on Sunday"},
		{"monthly", cronread.Params{Day: 1}, "0 0 1 * *", "On day 1 of the month at 00:00"},
	} {
		spec, err := cronread.PresetSpec(tc.kind, tc.p)
		require.NoError(t, err)
		require.Equal(t, tc.spec, spec)
		_, err = workflow.ParseSchedule(spec, "Europe/Moscow")
		require.NoError(t, err, "the engine accepts %q", spec)
		en, err := cronread.Describe(spec, "en")
		require.NoError(t, err)
		require.Equal(t, tc.en, en)

		kind, p, ok := cronread.PresetOf(spec)
		require.True(t, ok, spec)
		require.Equal(t, tc.kind, kind)
		require.Equal(t, tc.p, p)
	}
}

func TestPresetSpecErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind string
		p    cronread.Params
		msg  string
	}{
		{"yearly", cronread.Params{}, `unknown schedule preset "yearly"`},
		{"every_minutes", cronread.Params{}, "every 0 minutes: give 1 to 1440 minutes"},
		{"every_minutes", cronread.Params{Every: 1441}, "every 1441 minutes: give 1 to 1440 minutes"},
		{"hourly", cronread.Params{Minute: 60}, "minute 60 is not between 0 and 59"},
		{"daily", cronread.Params{Hour: 24}, "hour 24 is not between 0 and 23"},
		{"weekdays", cronread.Params{Minute: -1}, "minute -1 is not between 0 and 59"},
		{"weekly", cronread.Params{Weekday: 7}, "weekday 7 is not between 0 (Sunday) and 6 (Saturday)"},
		{"monthly", cronread.Params{Day: 0}, "day 0 is not between 1 and 31"},
		{"monthly", cronread.Params{Day: 32}, "day 32 is not between 1 and 31"},
	} {
		_, err := cronread.PresetSpec(tc.kind, tc.p)
		require.EqualError(t, err, tc.msg)
	}
}

func TestPresetOf(t *testing.T) {
	t.Parallel()
	for spec, want := range map[string]struct {
		kind string
		p    cronread.Params
	}{
		"0 9 * * MON-FRI":   {"weekdays", cronread.Params{Hour: 9}},
		"0 9 ? * 1,2,3,4,5": {"weekdays", cronread.Params{Hour: 9}},
		"@daily":            {"daily", cronread.Params{}},
		"@hourly":           {"hourly", cronread.Params{}},
		"@weekly":           {"weekly", cronread.Params{Weekday: time.Sunday}},
		"@monthly":          {"monthly", cronread.Params{Day: 1}},
		"0-59/5 * * * *":    {"every_minutes", cronread.Params{Every: 5}},
		"0,30 * * * *":      {"every_minutes", cronread.Params{Every: 30}},
		"@every 7m":         {"every_minutes", cronread.Params{Every: 7}},
		"0 9 1-31 * *":      {"daily", cronread.Params{Hour: 9}},
		"15 8 * * SAT":      {"weekly", cronread.Params{Weekday: time.Saturday, Hour: 8, Minute: 15}},
	} {
		kind, p, ok := cronread.PresetOf(spec)
		require.True(t, ok, spec)
		require.Equal(t, want.kind, kind, spec)
		require.Equal(t, want.p, p, spec)
	}
	for _, spec := range []string{
		"@every 5m",    // ticks from a fixed origin, not on the zone's clock: not "*/5"
		"@every 30s",   // not whole minutes
		"*/7 * * * *",  // the hour's last gap is 4 minutes
		"5/15 * * * *", // every 15 minutes, but from :05
		"0 9,18 * * *",
		"0 9 1 * 1", // day 1 or Monday
		"0 9 * * 1-4",
		"0 9 1 1 *",
		"0 9 1,15 * *",
		"not cron",
	} {
		_, _, ok := cronread.PresetOf(spec)
		require.False(t, ok, spec)
	}
}

func TestPresetsList(t *testing.T) {
	t.Parallel()
	require.Len(t, cronread.Presets, 6)
	for _, p := range cronread.Presets {
		require.NotEmpty(t, p.Label["en"], p.Kind)
		require.NotEmpty(t, p.Label["ru"], p.Kind)
		require.NotEmpty(t, p.Params, p.Kind)
		_, err := cronread.PresetSpec(p.Kind, cronread.Params{Every: 10, Day: 1})
		require.NoError(t, err, p.Kind)
	}
}
