package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // registers the database/sql driver "sqlite" that sqliteDriverName wraps
)

// sqliteDriverName is the database/sql driver every SQLite connection of the store uses:
// modernc.org/sqlite's "sqlite" driver, with every time argument turned to UTC and the
// connection's statements kept prepared.
//
// The driver writes a time.Time as text in the value's own offset
// ("2006-01-02 15:04:05.999999999-07:00" with _time_format=sqlite), and SQLite compares
// those columns as text. A time in +03:00 would then sort three hours late and one in
// -05:00 five hours early. Written in UTC, the text sorts as the instants do: the
// fraction's trailing zeros are cut, but "+" sorts before "." and the digits, so a
// shorter text is the earlier time. Converting here, below gorm, covers gorm's
// statements, the store's raw database/sql queries and goose alike. PostgreSQL needs no
// such step: its columns are timestamptz.
const sqliteDriverName = "hookflow-sqlite"

// sqliteStmtCache is how many prepared statements a connection keeps. The store runs a
// few dozen distinct hot statements; texts that vary (IN lists of any length) only
// churn the least recently used end.
const sqliteStmtCache = 64

func init() {
	sql.Register(sqliteDriverName, utcDriver{&sqlite.Driver{}})
}

// utcDriver opens connections that write every time in UTC and keep their statements.
type utcDriver struct{ parent driver.Driver }

// Open opens a connection of the wrapped driver.
func (d utcDriver) Open(name string) (driver.Conn, error) {
	c, err := d.parent.Open(name)
	if err != nil {
		return nil, err
	}
	sc, ok := c.(sqliteConn)
	if !ok {
		_ = c.Close()
		return nil, fmt.Errorf("sqlite connection %T lacks the context methods", c)
	}
	return &utcConn{sqliteConn: sc, stmts: map[string]*cachedStmt{}}, nil
}

// sqliteConn is what the "sqlite" driver's connections implement; utcConn passes all of
// it through, so database/sql keeps its fast paths.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// sqliteStmt is what the driver's statements implement.
type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// sqliteRows is what the driver's rows implement; cachedRows passes it through, as gorm
// asks for column scan types when it scans into maps.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// utcConn is a SQLite connection whose arguments are checked by CheckNamedValue and
// whose single statements stay prepared between executions: ExecContext and
// QueryContext of the driver itself compile the SQL text on every call, which was an
// eighth of the server's CPU.
type utcConn struct {
	sqliteConn
	// database/sql calls a connection from one goroutine at a time, rows' Close
	// included, but the lock is uncontended and keeps the cache safe regardless.
	mu    sync.Mutex
	stmts map[string]*cachedStmt // nil once closed
	tick  uint64
	// prepares counts the statements compiled on this connection, for tests.
	prepares int64
}

// cachedStmt is a kept statement. busy: its rows are open, so a second execution of the
// same SQL on the connection (a transaction reading while it iterates) gets a statement
// of its own; the driver resets a statement when its rows close, which would cut the
// first reader short.
type cachedStmt struct {
	stmt sqliteStmt
	used uint64
	busy bool
	// orphan: evicted or the connection closed while busy; finalized when its rows close.
	orphan bool
}

var (
	_ driver.NamedValueChecker = (*utcConn)(nil)
	_ driver.ExecerContext     = (*utcConn)(nil)
	_ driver.QueryerContext    = (*utcConn)(nil)
	_ driver.SessionResetter   = (*utcConn)(nil)
	_ driver.Validator         = (*utcConn)(nil)
)

// CheckNamedValue converts an argument as database/sql would by default (Valuers and
// pointers such as *time.Time included), then turns a time into UTC. database/sql asks
// the connection for every argument of a query, an exec or a prepared statement, since
// the driver's statements have no checker of their own.
func (*utcConn) CheckNamedValue(nv *driver.NamedValue) error {
	// The store's own argument types first: the default converter takes pointers and
	// ints through reflection, an allocation per argument of every batch insert.
	switch x := nv.Value.(type) {
	case nil, string, []byte, int64, float64, bool:
		return nil
	case int:
		nv.Value = int64(x)
		return nil
	case time.Time:
		nv.Value = x.UTC()
		return nil
	case *string:
		if x == nil {
			nv.Value = nil
		} else {
			nv.Value = *x
		}
		return nil
	case *time.Time:
		if x == nil {
			nv.Value = nil
		} else {
			nv.Value = x.UTC()
		}
		return nil
	}
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err != nil {
		return err
	}
	if t, ok := v.(time.Time); ok {
		v = t.UTC()
	}
	nv.Value = v
	return nil
}

// cacheable: a script (anything with a ';') is not kept, the driver compiles a script
// statement by statement on each run anyway; goose's migrations are such scripts.
func cacheable(query string) bool { return !strings.Contains(query, ";") }

// acquire returns the idle kept statement of query, marked busy until release,
// preparing and keeping one if there is none; nil (and no error) means the query should
// take the driver's one-shot path: a script, a closed cache, or the statement busy.
func (c *utcConn) acquire(ctx context.Context, query string) (*cachedStmt, error) {
	if !cacheable(query) {
		return nil, nil
	}
	c.mu.Lock()
	if c.stmts == nil {
		c.mu.Unlock()
		return nil, nil
	}
	c.tick++
	if cs, ok := c.stmts[query]; ok {
		defer c.mu.Unlock()
		if cs.busy {
			return nil, nil
		}
		cs.used, cs.busy = c.tick, true
		return cs, nil
	}
	c.prepares++
	c.mu.Unlock()
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s, ok := ds.(sqliteStmt)
	if !ok {
		_ = ds.Close()
		return nil, fmt.Errorf("sqlite statement %T lacks the context methods", ds)
	}
	cs := &cachedStmt{stmt: s, used: c.tick, busy: true}
	c.mu.Lock()
	var evict []*cachedStmt
	if _, dup := c.stmts[query]; dup || c.stmts == nil {
		// Closed or prepared meanwhile: database/sql never lets that happen, but a
		// statement not in the cache must still be finalized, by release.
		cs.orphan = true
	} else {
		if len(c.stmts) >= sqliteStmtCache {
			evict = c.evictLocked()
		}
		c.stmts[query] = cs
	}
	c.mu.Unlock()
	_ = closeStmts(evict) // finalizing a statement reports nothing the caller could act on
	return cs, nil
}

// evictLocked drops the least recently used statement and returns it if it is idle;
// a busy one is finalized when its rows close.
func (c *utcConn) evictLocked() []*cachedStmt {
	var oldest string
	var lru *cachedStmt
	for q, cs := range c.stmts {
		if lru == nil || cs.used < lru.used {
			oldest, lru = q, cs
		}
	}
	delete(c.stmts, oldest)
	if lru.busy {
		lru.orphan = true
		return nil
	}
	return []*cachedStmt{lru}
}

func closeStmts(stmts []*cachedStmt) error {
	var errs []error
	for _, cs := range stmts {
		errs = append(errs, cs.stmt.Close())
	}
	return errors.Join(errs...)
}

// release ends a query's use of cs.
func (c *utcConn) release(cs *cachedStmt) error {
	c.mu.Lock()
	cs.busy = false
	orphan := cs.orphan
	c.mu.Unlock()
	if orphan {
		return cs.stmt.Close()
	}
	return nil
}

// oneShot counts a statement the driver compiles for a single run.
func (c *utcConn) oneShot() {
	c.mu.Lock()
	c.prepares++
	c.mu.Unlock()
}

// ExecContext runs query on its kept statement.
func (c *utcConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		c.oneShot()
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	// The driver resets the statement after the run, also after an error.
	res, err := cs.stmt.ExecContext(ctx, args)
	if rerr := c.release(cs); err == nil {
		err = rerr
	}
	return res, err
}

// QueryContext runs query on its kept statement, which stays busy until the rows close.
func (c *utcConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		c.oneShot()
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	r, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		_ = c.release(cs)
		return nil, err
	}
	sr, ok := r.(sqliteRows)
	if !ok {
		_ = r.Close()
		_ = c.release(cs)
		return nil, fmt.Errorf("sqlite rows %T lack the column type methods", r)
	}
	return &cachedRows{sqliteRows: sr, conn: c, stmt: cs}, nil
}

// ResetSession passes database/sql's check before reuse through to the driver.
func (c *utcConn) ResetSession(ctx context.Context) error { return c.sqliteConn.ResetSession(ctx) }

// IsValid passes database/sql's check before pooling through to the driver.
func (c *utcConn) IsValid() bool { return c.sqliteConn.IsValid() }

// Close finalizes the kept statements, then closes the connection.
func (c *utcConn) Close() error {
	c.mu.Lock()
	var idle []*cachedStmt
	for _, cs := range c.stmts {
		if cs.busy {
			cs.orphan = true
			continue
		}
		idle = append(idle, cs)
	}
	c.stmts = nil
	c.mu.Unlock()
	return errors.Join(closeStmts(idle), c.sqliteConn.Close())
}

// cachedRows are the rows of a kept statement; closing them frees the statement.
type cachedRows struct {
	sqliteRows
	conn *utcConn
	stmt *cachedStmt
	done bool
}

func (r *cachedRows) Close() error {
	if r.done {
		return nil
	}
	r.done = true
	err := r.sqliteRows.Close() // resets the statement
	if rerr := r.conn.release(r.stmt); err == nil {
		err = rerr
	}
	return err
}
