package ui

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/hookflow/hookflow/engine"
)

func TestNiceScale(t *testing.T) {
	t.Parallel()
	for max, want := range map[int64][2]int64{
		0: {1, 1}, 1: {1, 1}, 3: {3, 1}, 4: {4, 1}, 5: {6, 2}, 8: {8, 2}, 9: {10, 5}, 17: {20, 5},
		21: {30, 10}, 100: {100, 50}, 101: {150, 50}, 999: {1000, 500}, 12345: {15000, 5000},
	} {
		top, step := niceScale(max)
		require.Equal(t, want, [2]int64{top, step}, "max %d", max)
		require.GreaterOrEqual(t, top, max)
		require.LessOrEqual(t, top/step, int64(4), "at most four steps")
	}
}

// TestChartGeometry: each bar's segments stack from the zero line, bottom series
// first, with heights in proportion to their counts, and the tallest bar fits.
func TestChartGeometry(t *testing.T) {
	t.Parallel()
	cat, err := loadCatalogue()
	require.NoError(t, err)
	loc, err := time.LoadLocation("Asia/Vladivostok")
	require.NoError(t, err)
	v := &view{loc: loc, tr: newTranslator(cat, language.English)}
	now := time.Now().In(loc)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).UTC() // today's midnight there
	d := &engine.Dashboard{Bucket: time.Hour}
	for i := range 24 {
		d.Buckets = append(d.Buckets, engine.RunBucket{Start: from.Add(time.Duration(i) * time.Hour), Counts: map[string]int64{}})
	}
	d.Buckets[3].Counts = map[string]int64{engine.RunSucceeded: 6, engine.RunFailed: 2, engine.RunQueued: 1, engine.RunRunning: 1}
	d.Buckets[7].Counts = map[string]int64{engine.RunCancelled: 4}

	c, rows := buildChart(v, d, "label")
	require.Len(t, c.Bars, 24)
	require.Len(t, rows, 24)
	require.Equal(t, []int64{6, 2, 0, 0, 2}, rows[3].Counts, "queued and running are one series")
	require.EqualValues(t, 10, rows[3].Total)
	require.Equal(t, "03:00–04:00: Succeeded: 6, Failed: 2, In progress: 2", c.Bars[3].Title, "hours of the view's zone")
	require.Equal(t, "00:00–01:00: no runs", c.Bars[0].Title)
	require.Empty(t, c.Bars[0].Segments)

	f := func(s string) float64 {
		x, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err)
		return x
	}
	segs := c.Bars[3].Segments
	require.Len(t, segs, 3)
	require.Equal(t, []string{"succeeded", "failed", "active"}, []string{segs[0].Series, segs[1].Series, segs[2].Series})
	base := f(c.Base)
	require.InDelta(t, base, f(segs[0].Y)+f(segs[0].H), 0.11, "the first segment stands on the zero line")
	for i := 1; i < len(segs); i++ {
		require.InDelta(t, f(segs[i-1].Y), f(segs[i].Y)+f(segs[i].H), 0.11, "segment %d sits on the one below", i)
	}
	require.InDelta(t, 3*f(segs[1].H), f(segs[0].H), 0.2, "6 is three times 2")
	require.InDelta(t, float64(chartTop), f(segs[2].Y), 0.11, "10 runs reach the top of a 0–10 axis")
	require.Equal(t, []string{"0", "5", "10"}, []string{c.Ticks[0].Label, c.Ticks[1].Label, c.Ticks[2].Label})

	var labels []string
	for _, tk := range c.Times {
		labels = append(labels, tk.Label)
	}
	require.Equal(t, []string{"00:00", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00", "21:00"}, labels)
	require.False(t, c.Times[0].Minor)
	require.True(t, c.Times[1].Minor, "03:00 is left out on narrow screens")
}
