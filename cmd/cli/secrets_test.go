package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSecretFiles: each secret setting can come from a file named by its *_FILE twin, so
// it never needs the command line; giving both is a usage error, and a secret given as a
// flag is warned about.
func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "from-file.db")
	urlFile := filepath.Join(dir, "database-url")
	require.NoError(t, os.WriteFile(urlFile, []byte(dbPath+"\n"), 0o600))

	code, _, errOut := runCLI(t, "--data-dir", dir, "--database-url-file", urlFile, "migrate")
	require.Equal(t, ExitOK, code, errOut)
	require.FileExists(t, dbPath, "the database URL was read from the file")
	require.NotContains(t, errOut, "warning")

	t.Setenv("HOOKFLOW_DATABASE_URL_FILE", urlFile)
	code, _, errOut = runCLI(t, "--data-dir", dir, "--database-url", filepath.Join(dir, "other.db"), "migrate")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, "set HOOKFLOW_DATABASE_URL or HOOKFLOW_DATABASE_URL_FILE (--database-url or --database-url-file), not both")
	require.Contains(t, errOut, "warning: --database-url shows in the process list")

	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	t.Setenv("HOOKFLOW_DATABASE_URL_FILE", empty)
	code, _, errOut = runCLI(t, "--data-dir", dir, "migrate")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, "is empty")

	t.Setenv("HOOKFLOW_DATABASE_URL_FILE", filepath.Join(dir, "missing"))
	code, _, errOut = runCLI(t, "--data-dir", dir, "migrate")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, "read HOOKFLOW_DATABASE_URL_FILE")
}

// TestPprofOnLoopbackOnly: the profiling endpoints never listen beyond loopback.
func TestPprofOnLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:6060": true,
		":6060": false, "0.0.0.0:6060": false, "[::]:6060": false, "10.0.0.5:6060": false, "6060": false,
	} {
		err := loopbackAddr(addr)
		require.Equal(t, ok, err == nil, "%s: %v", addr, err)
	}
	t.Setenv("HOOKFLOW_PPROF_ADDR", ":6060")
	code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "serve", "--addr", "127.0.0.1:0")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, "profiling listens on loopback only")
}

// TestEverySecretHasAFileTwin lists the secret settings' *_FILE flags in serve's help.
func TestEverySecretHasAFileTwin(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "serve", "--help")
	require.Equal(t, ExitOK, code)
	for _, f := range []string{"--secret-key-file", "--admin-password-file", "--database-url-file"} {
		require.Contains(t, out, f)
	}
	require.Contains(t, out, "[HOOKFLOW_SECRET_KEY_FILE]")
}
