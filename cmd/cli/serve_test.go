package cli

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLocalURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ addr, want string }{
		{"[::]:8080", "http://localhost:8080"},
		{"0.0.0.0:8080", "http://localhost:8080"},
		{"127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"[::1]:8081", "http://[::1]:8081"},
		{"192.0.2.7:80", "http://192.0.2.7:80"},
	}
	for _, tt := range tests {
		addr, err := net.ResolveTCPAddr("tcp", tt.addr)
		require.NoError(t, err)
		require.Equal(t, tt.want, localURL(addr), tt.addr)
	}
}

func TestSelfCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		arg0 string
		opts Options
		want string
	}{
		{"hookflow", Options{DataDir: "./data"}, "hookflow"},
		{"/tmp/go-build123/b001/exe/hookflow", Options{DataDir: "./data"}, "go run ./cmd/hookflow"},
		{"./hookflow", Options{DataDir: "/var/lib/hook flow"}, "./hookflow --data-dir '/var/lib/hook flow'"},
		{"hookflow", Options{DataDir: "./data", DatabaseURL: "postgres://app:s3cret@db:5432/hookflow"},
			"hookflow --database-url postgres://app:xxxxx@db:5432/hookflow"},
		{"hookflow", Options{DataDir: "it's"}, `hookflow --data-dir 'it'\''s'`},
		{"hookflow", Options{DataDir: "./data", DatabaseURL: "postgres://app:pw@db/h?sslmode=disable&x=1"},
			"hookflow --database-url 'postgres://app:xxxxx@db/h?sslmode=disable&x=1'"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, selfCommand(tt.arg0, &tt.opts), tt.arg0)
	}
}

func TestConnectorsReloadSetting(t *testing.T) {
	t.Setenv("HOOKFLOW_CONNECTORS_RELOAD", "500ms")
	opts := &Options{}
	cmd := newServeCommand(opts)
	require.Equal(t, 500*time.Millisecond, opts.ConnectorsReload)
	require.Equal(t, 500*time.Millisecond, opts.engineConfig(nil).ConnectorsReload)
	require.NoError(t, cmd.Flags().Set("connectors-reload", "0"))
	require.Negative(t, opts.engineConfig(nil).ConnectorsReload, "0 on the command line: no reload loop")

	worker := &Options{}
	newWorkerCommand(worker)
	require.Equal(t, 500*time.Millisecond, worker.ConnectorsReload, "workers run connectors too")

	t.Setenv("HOOKFLOW_CONNECTORS_RELOAD", "often")
	code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "serve")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, `HOOKFLOW_CONNECTORS_RELOAD="often" is not a duration`)
}

func TestReleaseStartupPagesSetting(t *testing.T) {
	for v, want := range map[string]bool{"": releaseStartupPagesDefault, "false": false, "0": false, "true": true, " 1 ": true} {
		t.Setenv("HOOKFLOW_RELEASE_STARTUP_PAGES", v)
		got, err := releaseStartupPages()
		require.NoError(t, err, v)
		require.Equal(t, want, got, v)
	}
	t.Setenv("HOOKFLOW_RELEASE_STARTUP_PAGES", "sometimes")
	code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "serve")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, `HOOKFLOW_RELEASE_STARTUP_PAGES="sometimes": want true or false`)
}
