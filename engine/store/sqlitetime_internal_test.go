package store

import (
	"database/sql/driver"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCheckNamedValueMatchesDefault: the typed shortcuts of CheckNamedValue give what
// database/sql's default converter gives, with every time in UTC.
func TestCheckNamedValueMatchesDefault(t *testing.T) {
	zone := time.FixedZone("UTC+3", 3*3600)
	at := time.Now().In(zone)
	s, n := "text", 7
	var nilString *string
	var nilTime *time.Time
	type label string
	for _, v := range []any{nil, "text", []byte("raw"), int64(-3), 2.5, true, 42, at, &s, &at, nilString, nilTime, &n, label("named"), uint8(9)} {
		want, err := driver.DefaultParameterConverter.ConvertValue(v)
		require.NoError(t, err, "%T", v)
		if tm, ok := want.(time.Time); ok {
			want = tm.UTC()
		}
		nv := &driver.NamedValue{Ordinal: 1, Value: v}
		require.NoError(t, (*utcConn)(nil).CheckNamedValue(nv), "%T", v)
		require.Equal(t, want, nv.Value, "%T", v)
		if tm, ok := nv.Value.(time.Time); ok {
			require.Equal(t, time.UTC, tm.Location(), "%T", v)
		}
	}
}
