package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestUniqueViolation: a duplicate key is recognised by the database's code (SQLSTATE
// 23505, or SQLite's extended UNIQUE and PRIMARYKEY codes), on a unique column or a
// primary key, however it is wrapped; other constraint errors are not, and neither is a
// message that merely reads like one.
func TestUniqueViolation(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		exec := func(q string) error {
			_, err := s.WriterDB().ExecContext(ctx, q)
			return err
		}
		const user = `INSERT INTO users (id, email, password_hash, created_at) VALUES ('%s', 'a@example.com', 'h', CURRENT_TIMESTAMP)`
		require.NoError(t, exec(fmt.Sprintf(user, "u1")))
		err := exec(fmt.Sprintf(user, "u2"))
		require.Error(t, err)
		require.True(t, store.IsUniqueViolation(err), "unique column: %v", err)
		require.True(t, store.IsUniqueViolation(fmt.Errorf("create user: %w", err)), "wrapped")

		const setting = `INSERT INTO settings (name, value, created_at) VALUES ('k', 'v', CURRENT_TIMESTAMP)`
		require.NoError(t, exec(setting))
		err = exec(setting)
		require.Error(t, err)
		require.True(t, store.IsUniqueViolation(err), "primary key: %v", err)

		err = exec(`INSERT INTO settings (name, value, created_at) VALUES ('k2', NULL, CURRENT_TIMESTAMP)`)
		require.Error(t, err)
		require.False(t, store.IsUniqueViolation(err), "not null: %v", err)
		err = exec(`INSERT INTO api_tokens (id, user_id, token_hash, created_at) VALUES ('t1', 'nobody', 'x', CURRENT_TIMESTAMP)`)
		require.Error(t, err)
		require.False(t, store.IsUniqueViolation(err), "foreign key: %v", err)
	})
}

func TestUniqueViolationNeedsACode(t *testing.T) {
	t.Parallel()
	require.False(t, store.IsUniqueViolation(nil))
	require.True(t, store.IsUniqueViolation(fmt.Errorf("save: %w", gorm.ErrDuplicatedKey)))
	require.False(t, store.IsUniqueViolation(errors.New("UNIQUE constraint failed: users.email")))
	require.False(t, store.IsUniqueViolation(errors.New(`duplicate key value violates unique constraint "users_email_key" (SQLSTATE 23505)`)))
}
