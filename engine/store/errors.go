package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"modernc.org/sqlite"
)

// SQLite's extended result codes for a duplicate key (modernc.org/sqlite turns extended
// codes on for every connection, and Error.Code reports the extended one).
const (
	sqliteConstraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE: a UNIQUE column or index
	sqliteConstraintPrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
)

// pgUniqueViolation is PostgreSQL's SQLSTATE for a duplicate key, primary or unique.
const pgUniqueViolation = "23505"

// isUniqueViolation recognises a duplicate key from either database by its code, not by
// its message, which a driver may word differently or translate.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgUniqueViolation
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqliteConstraintUnique || liteErr.Code() == sqliteConstraintPrimaryKey
	}
	return errors.Is(err, gorm.ErrDuplicatedKey)
}
