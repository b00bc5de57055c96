package engine_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
)

func TestLoginDelay(t *testing.T) {
	t.Parallel()
	for failures, want := range map[int]time.Duration{
		0: 0, 4: 0, 5: time.Second, 6: 2 * time.Second, 7: 4 * time.Second, 10: 32 * time.Second,
		11: time.Minute, 100: time.Minute,
	} {
		require.Equal(t, want, engine.LoginDelay(failures), "%d failures", failures)
	}
}
