package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
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
	if isSQLiteUnique(err) {
		return true
	}
	return errors.Is(err, gorm.ErrDuplicatedKey)
}
