package store

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	_ "github.com/glebarez/go-sqlite" // registers the database/sql driver "sqlite" that sqliteDriverName wraps
)

// sqliteDriverName is the database/sql driver every SQLite connection of the store uses:
// the "sqlite" driver, with every time argument turned to UTC.
//
// The driver writes a time.Time as text in the value's own offset
// ("2006-01-02 15:04:05.999999999-07:00"), and SQLite compares those columns as text. A
// time in +03:00 would then sort three hours late and one in -05:00 five hours early.
// Written in UTC, the text sorts as the instants do: the fraction's trailing zeros are
// cut, but "+" sorts before "." and the digits, so a shorter text is the earlier time.
// Converting here, below gorm, covers gorm's statements, the store's raw database/sql
// queries and goose alike. PostgreSQL needs no such step: its columns are timestamptz.
const sqliteDriverName = "hookflow-sqlite"

func init() {
	// sql.Open only looks the driver up; it connects to nothing.
	db, err := sql.Open("sqlite", "")
	if err != nil {
		panic(fmt.Sprintf("find the sqlite driver: %v", err))
	}
	sql.Register(sqliteDriverName, utcDriver{db.Driver()})
	_ = db.Close()
}

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
