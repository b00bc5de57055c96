package cli

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDBSettings checks that the pool settings reach the engine's config and that values
// out of range stop a command with exit 2 before it opens anything.
func TestDBSettings(t *testing.T) {
	t.Setenv("HOOKFLOW_DB_MAX_CONNS", "6")
	t.Setenv("HOOKFLOW_DB_MAX_IDLE_CONNS", "2")
	t.Setenv("HOOKFLOW_DB_CONN_MAX_LIFETIME", "1h")
	t.Setenv("HOOKFLOW_DB_CONN_MAX_IDLE_TIME", "0")
	t.Setenv("HOOKFLOW_METRICS_TOKEN", "tok")
	opts := &Options{}
	cmd := newServeCommand(opts)
	opts.addOpsFlags(cmd.Flags())
	cfg := opts.engineConfig(nil)
	require.Equal(t, 6, cfg.DBMaxConns)
	require.Equal(t, 2, cfg.DBMaxIdleConns)
	require.Equal(t, time.Hour, cfg.DBConnMaxLifetime)
	require.Negative(t, cfg.DBConnMaxIdleTime, "0 on the command line: no limit")
	require.Equal(t, "tok", cfg.MetricsToken)

	for env, want := range map[string]string{
		"HOOKFLOW_DB_MAX_CONNS":      "--db-max-conns (HOOKFLOW_DB_MAX_CONNS) must be 0 (sized to the workers) or at least 2, got 1",
		"HOOKFLOW_DB_MAX_IDLE_CONNS": "--db-max-idle-conns (7) must not exceed --db-max-conns (6)",
	} {
		val := map[string]string{"HOOKFLOW_DB_MAX_CONNS": "1", "HOOKFLOW_DB_MAX_IDLE_CONNS": "7"}[env]
		t.Setenv(env, val)
		code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "migrate")
		require.Equal(t, ExitUsage, code, errOut)
		require.Contains(t, errOut, want)
		t.Setenv(env, map[string]string{"HOOKFLOW_DB_MAX_CONNS": "6", "HOOKFLOW_DB_MAX_IDLE_CONNS": "2"}[env])
	}
	t.Setenv("HOOKFLOW_DB_CONN_MAX_LIFETIME", "soon")
	code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "migrate")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, `HOOKFLOW_DB_CONN_MAX_LIFETIME="soon" is not a duration`)
}
