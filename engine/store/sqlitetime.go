package store

// The store writes every time into SQLite as UTC text in sqliteTimeLayout.
//
// A driver writes a time.Time as text in the value's own offset
// ("2006-01-02 15:04:05.999999999-07:00"), and SQLite compares those columns as text. A
// time in +03:00 would then sort three hours late and one in -05:00 five hours early.
// Written in UTC, the text sorts as the instants do: the fraction's trailing zeros are
// cut, but "+" sorts before "." and the digits, so a shorter text is the earlier time.
// Converting in the database/sql driver, below gorm, covers gorm's statements, the
// store's raw database/sql queries and goose alike. PostgreSQL needs no such step: its
// columns are timestamptz.
const sqliteTimeLayout = "2006-01-02 15:04:05.999999999-07:00"

// sqliteDriverName is the database/sql driver every SQLite connection of the store uses:
// the plain driver (SQLitePlainDriver), with every time argument turned to UTC.
const sqliteDriverName = "hookflow-sqlite"
