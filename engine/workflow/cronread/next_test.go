package cronread_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/engine/workflow/cronread"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// TestNextTimesFromNow asks from the real clock and checks the times relative to it.
func TestNextTimesFromNow(t *testing.T) {
	t.Parallel()
	now := time.Now()
	ts, err := cronread.NextTimes("*/15 * * * *", "Europe/Moscow", now, 5)
	require.NoError(t, err)
	require.Len(t, ts, 5)
	prev := now
	for i, x := range ts {
		require.True(t, x.After(prev), "ascending")
		require.Equal(t, "Europe/Moscow", x.Location().String())
		require.Zero(t, x.Minute()%15)
		require.Zero(t, x.Second())
		if i > 0 {
			require.Equal(t, 15*time.Minute, x.Sub(prev))
		}
		prev = x
	}
	require.LessOrEqual(t, ts[0].Sub(now), 15*time.Minute)

	none, err := cronread.NextTimes("@daily", "", now, 0)
	require.NoError(t, err)
	require.Empty(t, none)
}

// TestNextTimesMoscow: weekdays at 09:00, Moscow time (UTC+3 all year).
func TestNextTimesMoscow(t *testing.T) {
	t.Parallel()
	msk := zone(t, "Europe/Moscow")
	from := time.Date(2025, 5, 2, 10, 0, 0, 0, msk) // a Friday, after 09:00
	ts, err := cronread.NextTimes("0 9 * * 1-5", "Europe/Moscow", from, 5)
	require.NoError(t, err)
	want := []time.Time{
		time.Date(2025, 5, 5, 9, 0, 0, 0, msk), time.Date(2025, 5, 6, 9, 0, 0, 0, msk),
		time.Date(2025, 5, 7, 9, 0, 0, 0, msk), time.Date(2025, 5, 8, 9, 0, 0, 0, msk),
		time.Date(2025, 5, 9, 9, 0, 0, 0, msk),
	}
	require.Len(t, ts, 5)
	for i := range want {
		require.True(t, want[i].Equal(ts[i]), "%s != %s", want[i], ts[i])
		require.Equal(t, 6, ts[i].UTC().Hour())
	}
}

// TestNextTimesNewYorkDST: across the spring change (2025-03-09, 02:00 → 03:00) a daily
// 09:00 stays at 09:00 local, so one gap is 23 hours; a time that does not exist that
// night (02:30) is skipped; across the autumn change (2025-11-02, 01:00–02:00 happens
// twice) the engine's schedule fires at both 01:30s.
func TestNextTimesNewYorkDST(t *testing.T) {
	t.Parallel()
	ny := zone(t, "America/New_York")
	ts, err := cronread.NextTimes("0 9 * * *", "America/New_York", time.Date(2025, 3, 7, 12, 0, 0, 0, ny), 4)
	require.NoError(t, err)
	var gaps []time.Duration
	for i, x := range ts {
		require.Equal(t, 9, x.Hour())
		require.Equal(t, 8+i, x.Day())
		if i > 0 {
			gaps = append(gaps, x.Sub(ts[i-1]))
		}
	}
	require.Equal(t, []time.Duration{23 * time.Hour, 24 * time.Hour, 24 * time.Hour}, gaps)

	ts, err = cronread.NextTimes("30 2 * * *", "America/New_York", time.Date(2025, 3, 7, 12, 0, 0, 0, ny), 3)
	require.NoError(t, err)
	require.Equal(t, []int{8, 10, 11}, []int{ts[0].Day(), ts[1].Day(), ts[2].Day()}, "no 02:30 on March 9")

	ts, err = cronread.NextTimes("30 1 * * *", "America/New_York", time.Date(2025, 11, 1, 12, 0, 0, 0, ny), 3)
	require.NoError(t, err)
	require.Equal(t, "2025-11-02T01:30:00-04:00", ts[0].Format(time.RFC3339))
	require.Equal(t, "2025-11-02T01:30:00-05:00", ts[1].Format(time.RFC3339))
	require.Equal(t, "2025-11-03T01:30:00-05:00", ts[2].Format(time.RFC3339))
}

// TestNextTimesKolkata: a cron expression is read in the zone (UTC+5:30), while @every
// ticks on whole multiples counted in absolute time, so @every 1h falls at :30 there.
func TestNextTimesKolkata(t *testing.T) {
	t.Parallel()
	ist := zone(t, "Asia/Kolkata")
	from := time.Date(2025, 1, 15, 8, 0, 0, 0, ist)
	ts, err := cronread.NextTimes("0 9 * * *", "Asia/Kolkata", from, 2)
	require.NoError(t, err)
	require.Equal(t, "2025-01-15T09:00:00+05:30", ts[0].Format(time.RFC3339))
	require.Equal(t, "2025-01-15T03:30:00Z", ts[0].UTC().Format(time.RFC3339))
	require.Equal(t, "2025-01-16T09:00:00+05:30", ts[1].Format(time.RFC3339))

	ts, err = cronread.NextTimes("@every 1h", "Asia/Kolkata", from, 3)
	require.NoError(t, err)
	for i, x := range ts {
		require.Equal(t, 30, x.Minute())
		require.Equal(t, 8+i, x.Hour())
		require.Equal(t, "Asia/Kolkata", x.Location().String())
	}
	// The same with the engine's schedule directly: NextTimes adds nothing of its own.
	s, err := workflow.ParseSchedule("@every 1h", "Asia/Kolkata")
	require.NoError(t, err)
	require.True(t, s.Next(from).Equal(ts[0]))
}

func TestNextTimesErrors(t *testing.T) {
	t.Parallel()
	now := time.Now()
	_, err := cronread.NextTimes("0 9 * * *", "Mars/Olympus", now, 5)
	var se *workflow.ScheduleError
	require.ErrorAs(t, err, &se)
	require.ErrorContains(t, err, `unknown time zone "Mars/Olympus"`)
	_, err = cronread.NextTimes("61 * * * *", "", now, 5)
	require.ErrorAs(t, err, &se)
	_, err = cronread.NextTimes("* * * * *", "", now, -1)
	require.Error(t, err)
	_, err = cronread.NextTimes("* * * * *", "", now, cronread.MaxNextTimes+1)
	require.Error(t, err)
}
