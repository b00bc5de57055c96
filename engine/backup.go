package engine

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine/secrets"
	"github.com/hookflow/hookflow/engine/store"
)

// BackupFormat is the version of the backup archive layout and its manifest.
const BackupFormat = 1

// Names inside a backup archive.
const (
	backupManifestName = "manifest.json"
	backupDatabaseName = store.SQLiteFileName
)

// Scheduled backups.
const (
	// BackupKeepDefault is how many scheduled backups are kept.
	BackupKeepDefault = 7
	// BackupDirName is the folder of the data directory scheduled backups go to.
	BackupDirName = "backups"
)

// secretKeySetting is the setting that holds the fingerprint of the key the database's
// secrets are sealed with (CheckSecretKey writes it).
const secretKeySetting = "secret_key_fingerprint"

// ErrBackupPostgres means a file backup was asked of a PostgreSQL database.
var ErrBackupPostgres = store.ErrBackupPostgres

// IsPostgresURL says whether a database URL names PostgreSQL, without connecting.
func IsPostgresURL(url string) bool { return store.DialectOf(url) == store.Postgres }

// ErrBackupRefused is wrapped by every refusal of Restore: the archive does not fit this
// install, or the install is running.
var ErrBackupRefused = errors.New("restore refused")

// BackupManifest describes a backup archive. It never holds the secret key, only its
// fingerprint: connections' secrets in the copy open only with that key.
type BackupManifest struct {
	Format           int                `json:"format"`
	HookflowVersion  string             `json:"hookflow_version"`
	CreatedAt        time.Time          `json:"created_at"`
	Dialect          string             `json:"database_dialect"`
	MigrationVersion int64              `json:"migration_version"`
	DatabaseFile     string             `json:"database_file"`
	DatabaseSHA256   string             `json:"database_sha256"`
	DatabaseBytes    int64              `json:"database_bytes"`
	KeyFingerprint   string             `json:"secret_key_fingerprint"`
	Counts           store.BackupCounts `json:"counts"`
}

// Backup writes a consistent copy of the running SQLite database to file, a tar.gz
// archive holding manifest.json and the database. Webhooks keep being acknowledged
// while it runs; the copy holds everything committed when it started. The file must not
// exist; it appears whole or not at all.
func (e *Engine) Backup(ctx context.Context, file string) (*BackupManifest, error) {
	if e.store.Dialect() != store.SQLite {
		return nil, store.ErrBackupPostgres
	}
	if _, err := os.Lstat(file); err == nil {
		return nil, fmt.Errorf("backup: %s exists; choose a new file name", file)
	}
	// The copy is made next to the archive: a database may not fit in /tmp.
	tmp, err := os.MkdirTemp(filepath.Dir(file), ".hookflow-backup-")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	copyPath := filepath.Join(tmp, backupDatabaseName)
	started := e.cfg.Now().UTC()
	if err := e.store.VacuumInto(ctx, copyPath); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	m, err := e.describeCopy(ctx, copyPath, started)
	if err != nil {
		return nil, err
	}
	if err := writeBackupArchive(file, tmp, copyPath, m); err != nil {
		return nil, err
	}
	return m, nil
}

// describeCopy opens the copy to read its schema version, counts and key fingerprint,
// so the manifest describes the copy rather than the live database, then hashes it.
func (e *Engine) describeCopy(ctx context.Context, copyPath string, started time.Time) (*BackupManifest, error) {
	st, err := store.Open(ctx, store.Config{URL: copyPath})
	if err != nil {
		return nil, fmt.Errorf("backup: open the copy: %w", err)
	}
	m := &BackupManifest{Format: BackupFormat, HookflowVersion: hookflowVersion(), CreatedAt: started,
		Dialect: string(store.SQLite), DatabaseFile: backupDatabaseName}
	m.MigrationVersion, _, err = st.MigrationStatus(ctx)
	if err == nil {
		m.Counts, err = st.CountForBackup(ctx)
	}
	if err == nil {
		m.KeyFingerprint, err = st.Setting(ctx, secretKeySetting)
	}
	if cerr := st.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("backup: read the copy: %w", err)
	}
	if m.KeyFingerprint == "" {
		// No process has recorded its key yet: this one's key is the one to restore with.
		box, err := e.secretBox()
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		m.KeyFingerprint = box.Fingerprint()
	}
	m.DatabaseSHA256, m.DatabaseBytes, err = hashFile(copyPath)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

func writeBackupArchive(file, tmp, copyPath string, m *BackupManifest) error {
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("backup: encode manifest: %w", err)
	}
	part := filepath.Join(tmp, "archive.tar.gz")
	// The archive holds every event and the sealed secrets: owner only.
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: backupManifestName, Mode: 0o600, Size: int64(len(manifest)), ModTime: m.CreatedAt}); err != nil {
		return fmt.Errorf("backup: write archive: %w", err)
	}
	if _, err := tw.Write(manifest); err != nil {
		return fmt.Errorf("backup: write archive: %w", err)
	}
	db, err := os.Open(copyPath)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	if err := tw.WriteHeader(&tar.Header{Name: backupDatabaseName, Mode: 0o600, Size: m.DatabaseBytes, ModTime: m.CreatedAt}); err != nil {
		return fmt.Errorf("backup: write archive: %w", err)
	}
	if _, err := io.Copy(tw, db); err != nil {
		return fmt.Errorf("backup: write archive: %w", err)
	}
	for _, c := range []io.Closer{tw, zw} {
		if err := c.Close(); err != nil {
			return fmt.Errorf("backup: write archive: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: write archive: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backup: write archive: %w", err)
	}
	// A link, unlike a rename, fails if file appeared meanwhile.
	if err := os.Link(part, file); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ReadBackupManifest returns the manifest of a backup archive without extracting it.
func ReadBackupManifest(file string) (*BackupManifest, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read backup: %w", err)
	}
	defer f.Close()
	m, _, err := readBackup(f, "")
	return m, err
}

// readBackup reads an archive; with dbPath set it also writes the database there and
// returns its SHA-256.
func readBackup(r io.Reader, dbPath string) (*BackupManifest, string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, "", fmt.Errorf("read backup: not a Hookflow backup (tar.gz): %w", err)
	}
	tr := tar.NewReader(zr)
	var m *BackupManifest
	sum := ""
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("read backup: %w", err)
		}
		switch h.Name {
		case backupManifestName:
			m = &BackupManifest{}
			if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(m); err != nil {
				return nil, "", fmt.Errorf("read backup manifest: %w", err)
			}
		case backupDatabaseName:
			if dbPath == "" {
				continue
			}
			out, err := os.OpenFile(dbPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return nil, "", fmt.Errorf("read backup: %w", err)
			}
			hs := sha256.New()
			_, err = io.Copy(io.MultiWriter(out, hs), tr)
			if err == nil {
				err = out.Sync()
			}
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, "", fmt.Errorf("read backup: extract database: %w", err)
			}
			sum = hex.EncodeToString(hs.Sum(nil))
		}
	}
	if m == nil {
		return nil, "", errors.New("read backup: no manifest.json: not a Hookflow backup")
	}
	if m.Format != BackupFormat {
		return nil, "", fmt.Errorf("read backup: format %d, this Hookflow reads format %d", m.Format, BackupFormat)
	}
	if dbPath != "" && sum == "" {
		return nil, "", fmt.Errorf("read backup: no %s in the archive", backupDatabaseName)
	}
	return m, sum, nil
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Manifest *BackupManifest
	// Database is the restored file; Previous is where the database it replaced was kept,
	// or "" when there was none.
	Database string
	Previous string
}

// Restore replaces the SQLite database of cfg with the one in a backup archive. It
// refuses (ErrBackupRefused) when another process has the database open, when the
// archive's checksum does not match, and when the configured secret key is not the one
// the backup's secrets are sealed with. The replaced database is kept beside it as
// NAME.before-restore-TIMESTAMP, with its WAL.
func Restore(ctx context.Context, cfg Config, file string) (*RestoreResult, error) {
	cfg = cfg.WithDefaults()
	if store.DialectOf(cfg.DatabaseURL) != store.SQLite {
		return nil, fmt.Errorf("%w: %w", ErrBackupRefused, store.ErrBackupPostgres)
	}
	dbPath, err := store.SQLitePath(cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	fp, err := configuredKeyFingerprint(cfg)
	if err != nil {
		return nil, err
	}
	inUse, err := store.SQLiteInUse(dbPath)
	if err != nil {
		return nil, err
	}
	if inUse {
		return nil, fmt.Errorf("%w: %s is open in a running Hookflow (or another program); stop every serve and worker process using it first", ErrBackupRefused, dbPath)
	}
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dbPath), ".hookflow-restore-")
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(tmp)
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	extracted := filepath.Join(tmp, backupDatabaseName)
	m, sum, err := readBackup(f, extracted)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBackupRefused, err)
	}
	if sum != m.DatabaseSHA256 {
		return nil, fmt.Errorf("%w: the database in %s does not match its manifest's SHA-256 (%s, manifest says %s): the file is damaged or was altered",
			ErrBackupRefused, file, sum, m.DatabaseSHA256)
	}
	if m.KeyFingerprint != "" && m.KeyFingerprint != fp {
		return nil, fmt.Errorf("%w: the backup's connections are sealed with the secret key of fingerprint %s, and the configured key's fingerprint is %s: "+
			"their secrets would not decrypt. Put that install's secret.key in the data directory or set HOOKFLOW_SECRET_KEY to its key (docs/backup.md)",
			ErrBackupRefused, m.KeyFingerprint, fp)
	}
	res := &RestoreResult{Manifest: m, Database: dbPath}
	if _, err := os.Stat(dbPath); err == nil {
		res.Previous = fmt.Sprintf("%s.before-restore-%s", dbPath, cfg.Now().UTC().Format("20060102T150405Z"))
		// The WAL goes along so the kept copy opens with everything it had committed.
		for _, suffix := range []string{"", "-wal"} {
			if err := os.Rename(dbPath+suffix, res.Previous+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("restore: keep the current database: %w", err)
			}
		}
		if err := os.Remove(dbPath + "-shm"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(extracted, dbPath); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	// Open it once: a damaged copy shows now, not at the server's start.
	st, err := store.Open(ctx, store.Config{URL: dbPath})
	if err != nil {
		return res, fmt.Errorf("restore: open the restored database: %w", err)
	}
	check, err := st.QuickCheck(ctx)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, fmt.Errorf("restore: check the restored database: %w", err)
	}
	if check != "ok" {
		return res, fmt.Errorf("restore: the restored database fails its check: %s", check)
	}
	return res, nil
}

// configuredKeyFingerprint is the fingerprint of the key cfg names, without generating
// one: a restore into a new data directory needs the backed-up install's key.
func configuredKeyFingerprint(cfg Config) (string, error) {
	if cfg.SecretKey == "" {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, secrets.KeyFileName)); errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w: no secret key: copy the backed-up install's %s into %s or set HOOKFLOW_SECRET_KEY (docs/backup.md)",
				ErrBackupRefused, secrets.KeyFileName, cfg.DataDir)
		}
	}
	box, err := loadSecretBox(cfg)
	if err != nil {
		return "", err
	}
	return box.Fingerprint(), nil
}

// hookflowVersion is the module version this binary was built from, or "dev".
func hookflowVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := bi.Main.Version
	if bi.Main.Path != "github.com/hookflow/hookflow" {
		v = ""
		for _, d := range bi.Deps {
			if d.Path == "github.com/hookflow/hookflow" {
				v = d.Version
			}
		}
	}
	if v == "" || v == "(devel)" {
		return "dev"
	}
	return strings.TrimPrefix(v, "v")
}

// scheduledBackups takes a backup into the backup folder every BackupInterval and keeps
// the newest BackupKeep.
func (e *Engine) scheduledBackups(ctx context.Context) {
	t := time.NewTicker(e.cfg.BackupInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := e.ScheduledBackup(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("Scheduled backup failed", slog.Any("err", err))
		}
	}
}

// ScheduledBackup takes one backup into the backup folder and prunes the oldest beyond
// BackupKeep. It returns the file written.
func (e *Engine) ScheduledBackup(ctx context.Context) (string, error) {
	dir := e.cfg.BackupDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("scheduled backup: %w", err)
	}
	// Milliseconds keep names apart when two processes share the database and the folder.
	name := "hookflow-" + e.cfg.Now().UTC().Format("20060102T150405.000Z") + ".tar.gz"
	file := filepath.Join(dir, name)
	m, err := e.Backup(ctx, file)
	if err != nil {
		return "", err
	}
	e.log.Info("Backup written", slog.String("file", file), slog.Int64("bytes", m.DatabaseBytes),
		slog.Int64("events", m.Counts.Events), slog.Int64("runs", m.Counts.Runs))
	removed, err := PruneBackups(dir, e.cfg.BackupKeep)
	for _, r := range removed {
		e.log.Info("Old backup removed", slog.String("file", r))
	}
	if err != nil {
		return file, err
	}
	return file, nil
}

// PruneBackups deletes the scheduled backups of dir (hookflow-*.tar.gz) beyond the
// newest keep, and returns the files removed. Names sort by time.
func PruneBackups(dir string, keep int) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "hookflow-*.tar.gz"))
	if err != nil {
		return nil, fmt.Errorf("prune backups: %w", err)
	}
	if len(matches) <= keep {
		return nil, nil
	}
	slices.Sort(matches)
	var removed []string
	for _, f := range matches[:len(matches)-keep] {
		if err := os.Remove(f); err != nil {
			return removed, fmt.Errorf("prune backups: %w", err)
		}
		removed = append(removed, f)
	}
	return removed, nil
}

// ExportFormat is the version of the export document.
const ExportFormat = 1

// Export is the definitions of an install in one document: what pg_dump's companion
// keeps readable and diffable. Connections carry the names of their set secrets, never
// their values.
type Export struct {
	Format          int                     `json:"format"`
	HookflowVersion string                  `json:"hookflow_version"`
	CreatedAt       time.Time               `json:"created_at"`
	Dialect         string                  `json:"database_dialect"`
	Workflows       []ExportWorkflow        `json:"workflows"`
	Connections     []Connection            `json:"connections"`
	ConnectorFiles  []ExportedConnectorFile `json:"connector_files"`
}

// ExportWorkflow is a workflow with its current definition.
type ExportWorkflow struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	Version int    `json:"version"`
	// Definition is the JSON document as stored, or a string for one that is not JSON.
	Definition json.RawMessage `json:"definition"`
}

// ExportedConnectorFile is an uploaded connector file.
type ExportedConnectorFile struct {
	Name     string `json:"name"`
	Revision int    `json:"revision"`
	Source   string `json:"source"`
}

// Export returns the definitions of the install: live workflows with their current
// definition, connections without secret values, and uploaded connector files.
func (e *Engine) Export(ctx context.Context) (*Export, error) {
	out := &Export{Format: ExportFormat, HookflowVersion: hookflowVersion(), CreatedAt: e.cfg.Now().UTC(),
		Dialect: string(e.store.Dialect()), Workflows: []ExportWorkflow{}, ConnectorFiles: []ExportedConnectorFile{}}
	wfs, err := e.store.LiveWorkflows(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defs, err := e.store.CurrentDefinitions(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	for _, w := range wfs {
		def := json.RawMessage(defs[w.ID])
		if !json.Valid(def) {
			s, err := json.Marshal(defs[w.ID])
			if err != nil {
				return nil, fmt.Errorf("export workflow %s: %w", w.Name, err)
			}
			def = s
		}
		out.Workflows = append(out.Workflows, ExportWorkflow{ID: w.ID, Name: w.Name, Enabled: w.Enabled, Version: w.Version, Definition: def})
	}
	if out.Connections, err = e.ListConnections(ctx); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	files, err := e.store.ConnectorFilesWithSource(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	for _, f := range files {
		out.ConnectorFiles = append(out.ConnectorFiles, ExportedConnectorFile{Name: f.Name, Revision: f.Revision, Source: f.Source})
	}
	return out, nil
}
