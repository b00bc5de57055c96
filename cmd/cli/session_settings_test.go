package cli

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSessionSettings(t *testing.T) {
	t.Setenv("HOOKFLOW_SESSION_IDLE_TIMEOUT", "1d")
	t.Setenv("HOOKFLOW_SESSION_MAX_AGE", "14d")
	opts := &Options{}
	cmd := newServeCommand(opts)
	require.Equal(t, 24*time.Hour, opts.SessionIdleTimeout)
	require.Equal(t, 14*24*time.Hour, opts.SessionMaxAge)
	require.NoError(t, cmd.Flags().Set("session-idle-timeout", "12h"))
	cfg := opts.engineConfig(nil)
	require.Equal(t, 12*time.Hour, cfg.SessionIdleTimeout)
	require.Equal(t, 14*24*time.Hour, cfg.SessionMaxAge)

	for _, flag := range []string{"--session-idle-timeout", "--session-max-age"} {
		code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "serve", "--addr", "127.0.0.1:0", flag, "0")
		require.Equal(t, ExitUsage, code, flag)
		require.Contains(t, errOut, flag+" must be more than 0")
	}
}
