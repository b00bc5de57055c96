package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrBackupPostgres means a file backup was asked of a PostgreSQL database: its copy is
// pg_dump's job (docs/backup.md).
var ErrBackupPostgres = errors.New("hookflow backup copies SQLite databases only; back up PostgreSQL with pg_dump " +
	"and keep the definitions with `hookflow export` (docs/backup.md)")

// DialectOf says which database a URL (Config.URL) names, without connecting.
func DialectOf(url string) Dialect {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// SQLitePath returns the file of the SQLite database that Open would use for url and
// dataDir.
func SQLitePath(url, dataDir string) (string, error) {
	return sqlitePath(url, dataDir)
}

// VacuumInto writes a consistent copy of the SQLite database to path, which must not
// exist. It reads one snapshot through the read pool, so writers (webhooks being
// acknowledged) keep committing while it runs, and the copy holds exactly what was
// committed when it started.
func (s *Store) VacuumInto(ctx context.Context, path string) error {
	if s.dialect != SQLite {
		return ErrBackupPostgres
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("vacuum into %s: the file exists", path)
	}
	if err := s.rdb.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		return fmt.Errorf("vacuum into %s: %w", path, err)
	}
	return nil
}

// BackupCounts are the sizes a backup manifest records, for a reader to judge a backup
// without opening it.
type BackupCounts struct {
	Workflows   int64 `json:"workflows"`
	Connections int64 `json:"connections"`
	Events      int64 `json:"events"`
	Runs        int64 `json:"runs"`
}

// CountForBackup counts the live workflows, the connections, events and runs.
func (s *Store) CountForBackup(ctx context.Context) (BackupCounts, error) {
	var c BackupCounts
	for _, q := range []struct {
		n   *int64
		sql string
	}{
		{&c.Workflows, "SELECT COUNT(*) FROM workflows WHERE deleted_at IS NULL"},
		{&c.Connections, "SELECT COUNT(*) FROM connections"},
		{&c.Events, "SELECT COUNT(*) FROM events"},
		{&c.Runs, "SELECT COUNT(*) FROM runs"},
	} {
		if err := s.rdb.WithContext(ctx).Raw(q.sql).Scan(q.n).Error; err != nil {
			return c, fmt.Errorf("count for backup: %w", err)
		}
	}
	return c, nil
}

// Setting returns the value stored under name, or "" when there is none.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var rows []Setting
	if err := s.rdb.WithContext(ctx).Where("name = ?", name).Limit(1).Find(&rows).Error; err != nil {
		return "", fmt.Errorf("read setting %s: %w", name, err)
	}
	if len(rows) == 0 {
		return "", nil
	}
	return rows[0].Value, nil
}

// LiveWorkflows returns every workflow that is not deleted, by name.
func (s *Store) LiveWorkflows(ctx context.Context) ([]Workflow, error) {
	var out []Workflow
	if err := s.rdb.WithContext(ctx).Where("deleted_at IS NULL").Order("name, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	return out, nil
}

// ConnectorFilesWithSource returns every uploaded connector file with its source, by name.
func (s *Store) ConnectorFilesWithSource(ctx context.Context) ([]ConnectorFile, error) {
	var out []ConnectorFile
	if err := s.rdb.WithContext(ctx).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list connector files: %w", err)
	}
	return out, nil
}

// SQLiteInUse says whether another process has the SQLite database at path open. Every
// connection to a WAL database holds a shared lock on one byte of its "-shm" file (the
// DMS byte) for as long as it is open; a write lock on that byte is granted only when no
// other process holds it. POSIX locks do not see the calling process's own connections,
// and closing the probe drops every lock this process holds on the file: call it only
// from a process that does not have the database open.
func SQLiteInUse(path string) (bool, error) {
	return sqliteInUse(path)
}

// QuickCheck runs SQLite's quick_check and returns its verdict, "ok" when the file is
// sound.
func (s *Store) QuickCheck(ctx context.Context) (string, error) {
	var out string
	if err := s.rdb.WithContext(ctx).Raw("PRAGMA quick_check").Scan(&out).Error; err != nil {
		return "", fmt.Errorf("check database: %w", err)
	}
	return out, nil
}
