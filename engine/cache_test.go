package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCacheKeepsAnswersNotFailures: a value and a "does not exist" are cached for the TTL;
// a failure to look (a cancelled request, a database error) is not, so one caller's
// trouble is not served to everyone else for a second.
func TestCacheKeepsAnswersNotFailures(t *testing.T) {
	t.Parallel()
	c := newTTLCache[string](time.Now)
	loads := 0
	load := func(v string, err error) func() (string, error) {
		return func() (string, error) { loads++; return v, err }
	}

	_, err := c.get("cancelled", load("", fmt.Errorf("find webhook: %w", context.Canceled)))
	require.ErrorIs(t, err, context.Canceled)
	v, err := c.get("cancelled", load("found", nil))
	require.NoError(t, err, "the cancelled lookup was not kept")
	require.Equal(t, "found", v)

	_, err = c.get("db", load("", errors.New("database is locked")))
	require.Error(t, err)
	_, err = c.get("db", load("found", nil))
	require.NoError(t, err)

	_, err = c.get("gone", load("", fmt.Errorf("%w: no such webhook", ErrNotFound)))
	require.ErrorIs(t, err, ErrNotFound)
	_, err = c.get("gone", load("found", nil))
	require.ErrorIs(t, err, ErrNotFound, "a not-found answer is kept for the TTL")

	_, err = c.get("conn", load("", missingConnection("crm")))
	require.Error(t, err)
	_, err = c.get("conn", load("found", nil))
	require.ErrorAs(t, err, new(missingConnection), "a missing connection is an answer too")

	before := loads
	v, err = c.get("cancelled", load("other", nil))
	require.NoError(t, err)
	require.Equal(t, "found", v, "a found value is kept")
	require.Equal(t, before, loads)
}
