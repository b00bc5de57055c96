package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// lockedBuffer is a log sink safe for the engine's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestScheduledBackupsKeepN: the scheduled loop writes backups into DATA_DIR/backups,
// logs each, and keeps the newest BackupKeep.
func TestScheduledBackupsKeepN(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Configure: func(c *engine.Config) {
		c.BackupInterval = 20 * time.Millisecond
		c.BackupKeep = 2
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}})
	_, err := eng.CreateWorkflow(context.Background(), []byte(`{"name":"kept","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set","with":{"x":"1"}}]}`))
	require.NoError(t, err)
	dir := filepath.Join(eng.DataDir, engine.BackupDirName)
	require.Eventually(t, func() bool { return strings.Count(logs.String(), "Old backup removed") >= 2 },
		30*time.Second, 10*time.Millisecond, logs.String())
	require.NoError(t, eng.Close())
	files, err := filepath.Glob(filepath.Join(dir, "hookflow-*.tar.gz"))
	require.NoError(t, err)
	require.Len(t, files, 2, "the newest two are kept")
	m, err := engine.ReadBackupManifest(files[1])
	require.NoError(t, err)
	require.Equal(t, int64(1), m.Counts.Workflows)
	require.Contains(t, logs.String(), "Backup written")
	fi, err := os.Stat(files[1])
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "a backup holds every event and sealed secret")
}

func TestPruneBackups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	names := []string{"hookflow-20250101T000000.000Z.tar.gz", "hookflow-20250102T000000.000Z.tar.gz",
		"hookflow-20250103T000000.000Z.tar.gz", "hookflow-20250104T000000.000Z.tar.gz", "notes.txt"}
	for _, n := range names {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600))
	}
	removed, err := engine.PruneBackups(dir, 3)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, names[0])}, removed)
	removed, err = engine.PruneBackups(dir, 1)
	require.NoError(t, err)
	require.Len(t, removed, 2)
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, left, 2, "the newest backup and the file that is not a backup")
	require.FileExists(t, filepath.Join(dir, names[3]))
	require.FileExists(t, filepath.Join(dir, "notes.txt"))
}

// TestScheduledBackupRefusedOnPostgres: the setting is refused at start, before any
// connection is tried.
func TestScheduledBackupRefusedOnPostgres(t *testing.T) {
	t.Parallel()
	_, err := engine.Open(context.Background(), engine.Config{DataDir: t.TempDir(), SecretKey: enginetest.SecretKey,
		DatabaseURL: "postgres://hookflow@127.0.0.1:1/none", BackupInterval: time.Hour})
	require.ErrorContains(t, err, "HOOKFLOW_BACKUP_INTERVAL")
	require.ErrorContains(t, err, "docs/backup.md")
}

// TestExport: definitions on both dialects, connections without their secret values.
func TestExport(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{NoStart: true})
		ctx := context.Background()
		const secret = "s3cret-header-value"
		wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"exported","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set","with":{"x":"1"}}]}`))
		require.NoError(t, err)
		gone, err := eng.CreateWorkflow(ctx, []byte(`{"name":"deleted","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set","with":{"x":"1"}}]}`))
		require.NoError(t, err)
		require.NoError(t, eng.DeleteWorkflow(ctx, gone.ID))
		_, err = eng.CreateConnection(ctx, engine.ConnectionInput{Name: "crm", Connector: "http",
			Config: map[string]any{"base_url": "https://crm.example.com", "auth": "header", "header_name": "X-Api-Key", "header_value": secret}})
		require.NoError(t, err)
		_, err = eng.PutConnectorFile(ctx, "rotor", []byte(rotorFile))
		require.NoError(t, err)

		doc, err := eng.Export(ctx)
		require.NoError(t, err)
		data, err := json.Marshal(doc)
		require.NoError(t, err)
		require.NotContains(t, string(data), secret)
		require.Equal(t, string(d), doc.Dialect)
		require.Len(t, doc.Workflows, 1, "deleted workflows are not exported")
		require.Equal(t, wf.ID, doc.Workflows[0].ID)
		var def map[string]any
		require.NoError(t, json.Unmarshal(doc.Workflows[0].Definition, &def))
		require.Equal(t, "exported", def["name"])
		require.Len(t, doc.Connections, 1)
		require.Equal(t, []string{"header_value"}, doc.Connections[0].SecretsSet)
		require.Equal(t, "https://crm.example.com", doc.Connections[0].Config["base_url"])
		require.Len(t, doc.ConnectorFiles, 1)
		require.Equal(t, "rotor", doc.ConnectorFiles[0].Name)
		require.Equal(t, rotorFile, doc.ConnectorFiles[0].Source)
	})
}
