//go:build hookflow_glebarez

package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	gosqlite "github.com/glebarez/go-sqlite" // registers the database/sql driver "sqlite" that sqliteDriverName wraps
	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
)

// SQLitePlainDriver is the database/sql driver name of the SQLite driver itself, for
// tests that reach under the store.
const SQLitePlainDriver = "sqlite"

func init() {
	// sql.Open only looks the driver up; it connects to nothing.
	db, err := sql.Open("sqlite", "")
	if err != nil {
		panic(fmt.Sprintf("find the sqlite driver: %v", err))
	}
	sql.Register(sqliteDriverName, utcDriver{db.Driver()})
	_ = db.Close()
}

// sqliteDialector opens dsn through sqliteDriverName under gorm.
func sqliteDialector(dsn string) (gorm.Dialector, *sql.DB, error) {
	db, err := sql.Open(sqliteDriverName, dsn)
	if err != nil {
		return nil, nil, err
	}
	return sqlite.Dialector{Conn: db}, db, nil
}

// isSQLiteUnique recognises SQLite's duplicate key error by its extended code.
func isSQLiteUnique(err error) bool {
	var liteErr *gosqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqliteConstraintUnique || liteErr.Code() == sqliteConstraintPrimaryKey
	}
	return false
}

// SQLite's extended result codes for a duplicate key (the driver turns extended codes on).
const (
	sqliteConstraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE: a UNIQUE column or index
	sqliteConstraintPrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
)

// utcDriver opens connections that write every time in UTC.
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
	return utcConn{sc}, nil
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
}

// utcConn is a SQLite connection whose arguments are checked by CheckNamedValue.
type utcConn struct{ sqliteConn }

var _ driver.NamedValueChecker = utcConn{}

// CheckNamedValue converts an argument as database/sql would by default (Valuers and
// pointers such as *time.Time included), then turns a time into UTC. database/sql asks
// the connection for every argument of a query, an exec or a prepared statement, since
// the driver's statements have no checker of their own.
func (utcConn) CheckNamedValue(nv *driver.NamedValue) error {
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
