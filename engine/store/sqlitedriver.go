//go:build !hookflow_glebarez

package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"
	ncruces "github.com/ncruces/go-sqlite3/driver" // registers the database/sql driver "sqlite3"
	"gorm.io/gorm"
)

// SQLitePlainDriver is the database/sql driver name of the SQLite driver itself, for
// tests that reach under the store.
const SQLitePlainDriver = "sqlite3"

// sqliteStmtCache is how many prepared statements a connection keeps for reuse. The
// store runs a few dozen distinct hot statements; the rest are evicted least recently
// used first.
const sqliteStmtCache = 64

func init() {
	sql.Register(sqliteDriverName, liteDriver{})
}

// sqliteDialector opens dsn through sqliteDriverName under gorm.
func sqliteDialector(dsn string) (gorm.Dialector, *sql.DB, error) {
	db, err := sql.Open(sqliteDriverName, dsn)
	if err != nil {
		return nil, nil, err
	}
	return liteDialect{conn: db}, db, nil
}

// isSQLiteUnique recognises SQLite's duplicate key error by its extended code.
func isSQLiteUnique(err error) bool {
	var liteErr *sqlite3.Error
	if errors.As(err, &liteErr) {
		c := liteErr.ExtendedCode()
		return c == sqlite3.CONSTRAINT_UNIQUE || c == sqlite3.CONSTRAINT_PRIMARYKEY
	}
	return false
}

// liteDriver opens connections of the ncruces driver that write every time in UTC, in
// sqliteTimeLayout, read times back in UTC, and keep their prepared statements.
type liteDriver struct{}

// Open opens a connection; name is a "file:" URI as the ncruces driver takes it.
func (liteDriver) Open(name string) (driver.Conn, error) {
	c, err := liteDriver{}.OpenConnector(name)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector lets database/sql parse the name once.
func (liteDriver) OpenConnector(name string) (driver.Connector, error) {
	// Times are written as text by utcValue, so the driver encodes none. Reading, the
	// driver parses a DATETIME column with this one layout, a single attempt; liteRows
	// parses the rare other text (goose's and datetime('now')'s) itself.
	u, err := url.Parse(name)
	if err != nil {
		return nil, fmt.Errorf("parse sqlite dsn: %w", err)
	}
	q := u.Query()
	q.Set("_timefmt", sqliteTimeLayout)
	u.RawQuery = q.Encode()
	inner, err := (&ncruces.SQLite{}).OpenConnector(u.String())
	if err != nil {
		return nil, err
	}
	return liteConnector{inner}, nil
}

type liteConnector struct{ inner driver.Connector }

func (c liteConnector) Driver() driver.Driver { return liteDriver{} }

func (c liteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	nc, ok := dc.(ncrucesConn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("sqlite connection %T lacks the context methods", dc)
	}
	return &liteConn{ncrucesConn: nc, stmts: map[string]*cachedStmt{}}, nil
}

// ncrucesConn is what the ncruces driver's connections implement.
type ncrucesConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
}

// liteConn keeps up to sqliteStmtCache idle prepared statements by their SQL, so a
// statement is compiled once per connection instead of on every execution.
type liteConn struct {
	ncrucesConn
	// database/sql uses a connection from one goroutine at a time, but a statement may
	// be closed by the goroutine that finishes reading its rows; the lock is cheap.
	mu    sync.Mutex
	stmts map[string]*cachedStmt
	tick  uint64
}

type cachedStmt struct {
	stmt driver.Stmt
	used uint64
}

var (
	_ driver.NamedValueChecker = (*liteConn)(nil)
	_ driver.NamedValueChecker = (*liteStmt)(nil)
)

// CheckNamedValue converts an argument as database/sql would by default (Valuers and
// pointers such as *time.Time included), then writes a time as UTC text.
func (*liteConn) CheckNamedValue(nv *driver.NamedValue) error { return utcValue(nv) }

// utcValue converts an argument as database/sql would by default, then writes a time as
// text in sqliteTimeLayout, in UTC: the text earlier releases wrote and queries compare.

func utcValue(nv *driver.NamedValue) error {
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err != nil {
		return err
	}
	if t, ok := v.(time.Time); ok {
		v = t.UTC().Format(sqliteTimeLayout)
	}
	nv.Value = v
	return nil
}

// PrepareContext returns an idle prepared statement of the same SQL, or prepares one.
func (c *liteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.mu.Lock()
	if cs, ok := c.stmts[query]; ok {
		delete(c.stmts, query)
		c.mu.Unlock()
		return &liteStmt{Stmt: cs.stmt, conn: c, query: query}, nil
	}
	c.mu.Unlock()
	s, err := c.ncrucesConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &liteStmt{Stmt: s, conn: c, query: query}, nil
}

// Prepare is PrepareContext without a context.
func (c *liteConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// release keeps s for the next PrepareContext of query, or finalizes it.
func (c *liteConn) release(query string, s driver.Stmt) error {
	if r, ok := s.(interface{ Reset() error }); ok {
		_ = r.Reset() // reports the last execution's error again, already returned
	}
	c.mu.Lock()
	if c.stmts == nil { // closed
		c.mu.Unlock()
		return s.Close()
	}
	if _, dup := c.stmts[query]; dup {
		c.mu.Unlock()
		return s.Close()
	}
	var evict driver.Stmt
	if len(c.stmts) >= sqliteStmtCache {
		var oldest string
		var at uint64
		for q, cs := range c.stmts {
			if evict == nil || cs.used < at {
				oldest, at, evict = q, cs.used, cs.stmt
			}
		}
		delete(c.stmts, oldest)
	}
	c.tick++
	c.stmts[query] = &cachedStmt{stmt: s, used: c.tick}
	c.mu.Unlock()
	if evict != nil {
		return evict.Close()
	}
	return nil
}

// Close finalizes the kept statements and closes the connection.
func (c *liteConn) Close() error {
	c.mu.Lock()
	stmts := c.stmts
	c.stmts = nil
	c.mu.Unlock()
	var errs []error
	for _, cs := range stmts {
		errs = append(errs, cs.stmt.Close())
	}
	errs = append(errs, c.ncrucesConn.Close())
	return errors.Join(errs...)
}

// liteStmt is a statement of a liteConn; Close hands it back to the connection.
type liteStmt struct {
	driver.Stmt
	conn  *liteConn
	query string
}

func (s *liteStmt) Close() error { return s.conn.release(s.query, s.Stmt) }

// CheckNamedValue: the driver's own statement checker would pass a time to the driver,
// which writes RFC 3339 in the time's own offset; this one writes it as utcValue does.
func (s *liteStmt) CheckNamedValue(nv *driver.NamedValue) error { return utcValue(nv) }

func (s *liteStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *liteStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	r, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	nr, ok := r.(ncrucesRows)
	if !ok {
		_ = r.Close()
		return nil, fmt.Errorf("sqlite rows %T lack the column type methods", r)
	}
	return &liteRows{ncrucesRows: nr}, nil
}

type ncrucesRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypeScanType
}

// liteRows reads times in UTC, as the store wrote them: the driver parses the stored
// "+00:00" into a zone of its own.
type liteRows struct {
	ncrucesRows
	timeCols []bool // which columns are declared as times; loaded on first need
}

func (r *liteRows) Next(dest []driver.Value) error {
	if err := r.ncrucesRows.Next(dest); err != nil {
		return err
	}
	for i, v := range dest {
		switch v := v.(type) {
		case time.Time:
			dest[i] = v.UTC()
		case string:
			// The driver left as text what its layout could not parse; in a time column
			// that is another format SQLite knows, such as "2006-01-02 15:04:05".
			if looksLikeDate(v) && r.timeColumn(i) {
				if t, err := sqlite3.TimeFormatAuto.Decode(v); err == nil {
					dest[i] = t.UTC()
				}
			}
		}
	}
	return nil
}

func looksLikeDate(s string) bool {
	return len(s) >= len("2006-01-02") && s[4] == '-' && s[7] == '-'
}

func (r *liteRows) timeColumn(i int) bool {
	if r.timeCols == nil {
		r.timeCols = make([]bool, len(r.Columns()))
		for j := range r.timeCols {
			switch r.ColumnTypeDatabaseTypeName(j) {
			case "DATE", "DATETIME", "TIMESTAMP":
				r.timeCols[j] = true
			}
		}
	}
	return r.timeCols[i]
}
