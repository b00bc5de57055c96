package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/cmd/cli/clitest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/secrets"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// ack is a webhook the server answered 2xx.
type ack struct{ event, run string }

// TestBackupUnderLoadRestoresAcknowledged is the test: webhooks arrive through
// the real HTTP ingress while `hookflow backup` copies the database; restored into a new
// data directory, the copy holds every event (and its run) acknowledged before the backup
// started.
func TestBackupUnderLoadRestoresAcknowledged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	eng, err := engine.Open(ctx, engine.Config{DataDir: dir, Workers: 2, Logger: enginetest.Logger(t)})
	require.NoError(t, err)
	t.Cleanup(func() { eng.Close() })
	require.NoError(t, eng.CheckSecretKey(ctx)) // as serve does: records the key's fingerprint
	eng.Start(ctx)
	wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"load","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set","with":{"n":"{{ trigger.body.n }}"}}]}`))
	require.NoError(t, err)
	srv := httptest.NewServer(web.New(eng, web.Config{Logger: enginetest.Logger(t)}))
	t.Cleanup(srv.Close)
	hook := srv.URL + "/hooks/" + wf.HookToken

	const senders, maxPerSender, backupAfter = 4, 150, 100
	var (
		started, done atomic.Bool
		mu            sync.Mutex
		before        []ack // acknowledged before the backup started
		total         atomic.Int64
		enough        = make(chan struct{})
		enoughOnce    sync.Once
		wg            sync.WaitGroup
	)
	for s := range senders {
		wg.Go(func() {
			for i := 0; i < maxPerSender && !done.Load(); i++ {
				res, err := http.Post(hook, "application/json", strings.NewReader(fmt.Sprintf(`{"n":"%d-%d"}`, s, i)))
				if err != nil {
					t.Errorf("post webhook: %v", err)
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode/100 != 2 {
					continue // not acknowledged: the sender would retry; nothing is owed
				}
				// Read after the answer arrived: false means it was acknowledged before the
				// backup started.
				if !started.Load() {
					var a struct {
						EventID string `json:"event_id"`
						RunID   string `json:"run_id"`
					}
					if err := json.Unmarshal(body, &a); err != nil {
						t.Errorf("decode %s: %v", body, err)
						return
					}
					mu.Lock()
					before = append(before, ack{a.EventID, a.RunID})
					mu.Unlock()
				}
				if total.Add(1) >= backupAfter {
					enoughOnce.Do(func() { close(enough) })
				}
			}
		})
	}
	<-enough
	file := filepath.Join(t.TempDir(), "under-load.tar.gz")
	started.Store(true)
	code, out, errOut := runCLI(t, "--data-dir", dir, "backup", file)
	acksDuring := total.Load()
	done.Store(true)
	wg.Wait()
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "Backup written to")
	t.Logf("%d acknowledged before the backup, %d in all (%d by the time it finished)", len(before), total.Load(), acksDuring)
	require.GreaterOrEqual(t, len(before), backupAfter)

	restored := t.TempDir()
	copyFile(t, filepath.Join(dir, secrets.KeyFileName), filepath.Join(restored, secrets.KeyFileName))
	code, out, errOut = runCLI(t, "--data-dir", restored, "restore", file)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "Restored")
	require.NotContains(t, out, "before-restore", "a new data directory has nothing to keep")

	st, err := store.Open(ctx, store.Config{DataDir: restored})
	require.NoError(t, err)
	defer st.Close()
	for _, a := range before {
		ev, err := st.GetEvent(ctx, a.event)
		require.NoError(t, err, "event %s acknowledged before the backup", a.event)
		require.Equal(t, wf.ID, ev.WorkflowID)
		run, err := st.GetRun(ctx, a.run)
		require.NoError(t, err, "run %s of an event acknowledged before the backup", a.run)
		require.NotNil(t, run.EventID)
		require.Equal(t, a.event, *run.EventID)
	}
	m, err := engine.ReadBackupManifest(file)
	require.NoError(t, err)
	require.GreaterOrEqual(t, m.Counts.Events, int64(len(before)))
	require.Equal(t, int64(1), m.Counts.Workflows)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, data, 0o600))
}

// newBackup makes a small install in a new data directory and backs it up, returning
// the directory and the archive.
func newBackup(t *testing.T) (dir, file string) {
	t.Helper()
	dir = t.TempDir()
	code, _, errOut := runCLI(t, "--data-dir", dir, "user", "create", "--email", "a@example.com", "--password", "correct horse battery")
	require.Equal(t, ExitOK, code, errOut)
	file = filepath.Join(t.TempDir(), "b.tar.gz")
	code, _, errOut = runCLI(t, "--data-dir", dir, "backup", file)
	require.Equal(t, ExitOK, code, errOut)
	return dir, file
}

// TestRestoreRefusesRunningServer: while a real `hookflow serve` process has the
// database open, restore refuses and leaves it alone; once it stopped, restore replaces
// the database and keeps the old one.
func TestRestoreRefusesRunningServer(t *testing.T) {
	t.Parallel()
	dir, file := newBackup(t)
	var logs bytes.Buffer
	var logMu sync.Mutex
	cmd := exec.Command(clitest.Binary(t), "--data-dir", dir, "serve", "--addr", "127.0.0.1:0")
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return logs.Write(p) })
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	require.Eventually(t, func() bool {
		logMu.Lock()
		defer logMu.Unlock()
		return strings.Contains(logs.String(), "Hookflow listening")
	}, 60*time.Second, 20*time.Millisecond)

	dbPath := filepath.Join(dir, store.SQLiteFileName)
	before, err := os.ReadFile(dbPath)
	require.NoError(t, err)
	code, _, errOut := runCLI(t, "--data-dir", dir, "restore", file)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "is open in a running Hookflow")
	after, err := os.ReadFile(dbPath)
	require.NoError(t, err)
	require.Equal(t, before, after, "a refused restore leaves the database alone")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	<-exited
	code, out, errOut := runCLI(t, "--data-dir", dir, "restore", file)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "kept as")
	kept, err := filepath.Glob(dbPath + ".before-restore-*")
	require.NoError(t, err)
	require.Len(t, kept, 1, "the replaced database is kept")
	code, out, errOut = runCLI(t, "--data-dir", dir, "user", "list")
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "a@example.com", "the restored database opens")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestRestoreRefusesOtherKey: secrets in the backup would not decrypt with another key,
// nor without one.
func TestRestoreRefusesOtherKey(t *testing.T) {
	t.Parallel()
	_, file := newBackup(t)
	target := t.TempDir()
	code, _, errOut := runCLI(t, "--data-dir", target, "restore", file)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "no secret key")
	require.NoFileExists(t, filepath.Join(target, secrets.KeyFileName), "restore never generates a key")

	code, _, errOut = runCLI(t, "--data-dir", target, "--secret-key", strings.Repeat("ab", 32), "restore", file)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "would not decrypt")
	require.NoFileExists(t, filepath.Join(target, store.SQLiteFileName))
}

// TestRestoreRefusesChecksumMismatch: a database altered inside the archive is refused.
func TestRestoreRefusesChecksumMismatch(t *testing.T) {
	t.Parallel()
	dir, file := newBackup(t)
	tampered := filepath.Join(t.TempDir(), "tampered.tar.gz")
	rewriteArchive(t, file, tampered, func(name string, data []byte) []byte {
		if name == store.SQLiteFileName {
			data[len(data)-1] ^= 0xff
		}
		return data
	})
	code, _, errOut := runCLI(t, "--data-dir", dir, "restore", tampered)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "does not match its manifest's SHA-256")
	kept, err := filepath.Glob(filepath.Join(dir, "*.before-restore-*"))
	require.NoError(t, err)
	require.Empty(t, kept, "nothing was replaced")

	code, _, errOut = runCLI(t, "--data-dir", dir, "restore", filepath.Join(dir, store.SQLiteFileName))
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "not a Hookflow backup")
}

func rewriteArchive(t *testing.T, from, to string, edit func(string, []byte) []byte) {
	t.Helper()
	in, err := os.Open(from)
	require.NoError(t, err)
	defer in.Close()
	zr, err := gzip.NewReader(in)
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		data = edit(h.Name, data)
		h.Size = int64(len(data))
		require.NoError(t, tw.WriteHeader(h))
		_, err = tw.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(to, buf.Bytes(), 0o600))
}

// TestBackupPostgresRefused: the refusal is decided from the URL, so it needs no
// PostgreSQL server, and points at the procedure that does apply.
func TestBackupPostgresRefused(t *testing.T) {
	t.Parallel()
	code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "--database-url", "postgres://hookflow@127.0.0.1:1/none", "backup", filepath.Join(t.TempDir(), "b.tar.gz"))
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "pg_dump")
	require.Contains(t, errOut, "hookflow export")
	require.Contains(t, errOut, "docs/backup.md")
}

func TestMain(m *testing.M) {
	code := m.Run()
	clitest.Cleanup() // the hookflow binary built for process tests
	os.Exit(code)
}

func TestBackupUsage(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"backup", "restore", "export"} {
		code, _, _ := runCLI(t, "--data-dir", t.TempDir(), cmd)
		require.Equal(t, ExitUsage, code, cmd)
	}
	_, file := newBackup(t)
	code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "backup", file)
	require.Equal(t, ExitFailure, code, "an existing file is not overwritten")
	require.Contains(t, errOut, "exists")
}

func TestExportCommand(t *testing.T) {
	t.Parallel()
	dir, _ := newBackup(t)
	out := t.TempDir()
	code, stdout, errOut := runCLI(t, "--data-dir", dir, "export", out)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, stdout, "Exported 0 workflows")
	files, err := filepath.Glob(filepath.Join(out, "hookflow-export-*.json"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	var doc engine.Export
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &doc))
	require.Equal(t, engine.ExportFormat, doc.Format)
	require.Equal(t, "sqlite", doc.Dialect)
}

func TestBackupSettings(t *testing.T) {
	t.Setenv("HOOKFLOW_BACKUP_INTERVAL", "6h")
	t.Setenv("HOOKFLOW_BACKUP_KEEP", "3")
	opts := &Options{}
	newServeCommand(opts)
	cfg := opts.engineConfig(nil)
	require.Equal(t, 6*time.Hour, cfg.BackupInterval)
	require.Equal(t, 3, cfg.BackupKeep)
	worker := &Options{}
	newWorkerCommand(worker)
	require.Equal(t, 6*time.Hour, worker.BackupInterval)

	t.Setenv("HOOKFLOW_BACKUP_INTERVAL", "daily")
	code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "serve")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, `HOOKFLOW_BACKUP_INTERVAL="daily" is not a duration`)
}
