package ui

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/hookflow/hookflow/engine"
)

// TestRunsFilterTimeZone: the runs filter reads its bounds in the user's time zone.
func TestRunsFilterTimeZone(t *testing.T) {
	t.Parallel()
	cat, err := loadCatalogue()
	require.NoError(t, err)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	v := &view{loc: tokyo, tr: newTranslator(cat, language.English)}
	var f engine.RunFilter
	in := runsFilter{From: "2026-03-01T09:30", To: "2026-03-02T00:00:15"}
	require.Empty(t, parseRunsFilter(v, &in, &f))
	require.Equal(t, time.Date(2026, 3, 1, 0, 30, 0, 0, time.UTC), f.From.UTC())
	require.Equal(t, time.Date(2026, 3, 1, 15, 0, 15, 0, time.UTC), f.To.UTC())
	require.Equal(t, "“01.03.2026” is not a date and time.", parseRunsFilter(v, &runsFilter{From: "01.03.2026"}, &f))
	require.Equal(t, "Choose a status from the list.", parseRunsFilter(v, &runsFilter{Status: "lost"}, &f))
}
