package engine_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/acme/autocert"

	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/secrets"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestACMECache: the database ACME cache gives back what was put, misses with autocert's
// ErrCacheMiss, deletes, and keeps only sealed values in its table: neither the PEM
// armour nor the key's bytes appear in the stored row.
func TestACMECache(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{Workers: -1, NoStart: true})
		ctx := context.Background()
		cache := eng.ACMECache()

		_, err := cache.Get(ctx, "hooks.example.test")
		require.ErrorIs(t, err, autocert.ErrCacheMiss)

		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		der, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		value := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
		require.NoError(t, cache.Put(ctx, "hooks.example.test", value))

		got, err := cache.Get(ctx, "hooks.example.test")
		require.NoError(t, err)
		require.Equal(t, value, got)

		// The row as another process (or a database dump) sees it.
		st, err := store.Open(ctx, store.Config{URL: eng.DatabaseURL})
		require.NoError(t, err)
		defer st.Close()
		sealed, err := st.GetACME(ctx, "hooks.example.test")
		require.NoError(t, err)
		require.NotContains(t, sealed, "PRIVATE KEY")
		require.NotContains(t, sealed, "-----BEGIN")
		require.NotContains(t, sealed, string(pem.EncodeToMemory(&pem.Block{Type: "X", Bytes: der}))[len("-----BEGIN X-----\n"):][:40],
			"the key's base64 is not there either")
		require.Regexp(t, `^v1:`, sealed, "sealed as connection secrets are")

		// A value this key cannot open (sealed with another key, or damaged) is a miss,
		// so autocert orders anew instead of failing every handshake.
		other, err := secrets.NewBox([]byte("another install's 32-byte key..."))
		require.NoError(t, err)
		foreign, err := other.Seal(string(value))
		require.NoError(t, err)
		require.NoError(t, st.PutACME(ctx, "other-key.example.test", foreign, storetest.ClockStart()))
		_, err = cache.Get(ctx, "other-key.example.test")
		require.ErrorIs(t, err, autocert.ErrCacheMiss)

		require.NoError(t, cache.Delete(ctx, "hooks.example.test"))
		_, err = cache.Get(ctx, "hooks.example.test")
		require.ErrorIs(t, err, autocert.ErrCacheMiss)
		require.NoError(t, cache.Delete(ctx, "hooks.example.test"), "deleting a missing name is no error")
	})
}
