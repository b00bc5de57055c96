package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// checkSchema makes sure PostgreSQL has a schema to create the tables in. When no schema
// of the search_path exists (search_path=name in the database URL, or
// options=-csearch_path=name, before CREATE SCHEMA name), current_schema() is NULL and
// goose would fail with "no schema has been selected to create in", which does not say
// what to do.
func (s *Store) checkSchema(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	var schema sql.NullString
	var path, user string
	err := s.closer[0].QueryRowContext(ctx, "SELECT current_schema(), current_setting('search_path'), current_user").
		Scan(&schema, &path, &user)
	if err != nil {
		return fmt.Errorf("read the postgres search_path: %w", err)
	}
	if schema.Valid {
		return nil
	}
	first := strings.TrimSpace(strings.Split(path, ",")[0])
	switch first {
	case "":
		return fmt.Errorf("postgres search_path is empty: set search_path in the database url to a schema that exists")
	case "$user", `"$user"`:
		first = pgx.Identifier{user}.Sanitize()
	}
	return fmt.Errorf("postgres schema %q of the search_path does not exist: create it with CREATE SCHEMA %s, "+
		"or set search_path in the database url to a schema that exists", strings.Trim(first, `"`), first)
}
