package secrets

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func testKey(b byte) []byte { return []byte(strings.Repeat(string(rune('a'+b%26)), KeySize)) }

func TestSealOpen(t *testing.T) {
	t.Parallel()
	box, err := NewBox(testKey(0))
	require.NoError(t, err)

	sealed, err := box.Seal("123:ABC-token")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(sealed, "v1:"))
	require.NotContains(t, sealed, "123:ABC-token")

	again, err := box.Seal("123:ABC-token")
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh nonce makes each sealing differ")

	plain, err := box.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, "123:ABC-token", plain)
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	a, err := NewBox(testKey(0))
	require.NoError(t, err)
	again, err := NewBox(testKey(0))
	require.NoError(t, err)
	other, err := NewBox(testKey(1))
	require.NoError(t, err)
	require.Len(t, a.Fingerprint(), 32)
	require.Equal(t, a.Fingerprint(), again.Fingerprint())
	require.NotEqual(t, a.Fingerprint(), other.Fingerprint())
	require.NotContains(t, a.Fingerprint(), hex.EncodeToString(testKey(0))[:8])
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	box, err := NewBox(testKey(0))
	require.NoError(t, err)
	other, err := NewBox(testKey(1))
	require.NoError(t, err)
	sealed, err := box.Seal("s3cret")
	require.NoError(t, err)

	_, err = other.Open(sealed)
	require.ErrorIs(t, err, ErrDecrypt)

	tampered := []byte(sealed)
	tampered[len(tampered)-2] ^= 1
	_, err = box.Open(string(tampered))
	require.Error(t, err)

	for _, bad := range []string{"", "plain", "v1:!!!", "v1:" + base64.StdEncoding.EncodeToString([]byte("x"))} {
		_, err = box.Open(bad)
		require.Error(t, err, bad)
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	raw := testKey(3)
	for _, s := range []string{
		hex.EncodeToString(raw),
		base64.StdEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
		" " + hex.EncodeToString(raw) + "\n",
	} {
		k, err := ParseKey(s)
		require.NoError(t, err, s)
		require.Equal(t, raw, k)
	}
	for _, s := range []string{"", "short", hex.EncodeToString(raw[:16])} {
		_, err := ParseKey(s)
		require.Error(t, err, s)
	}
	_, err := NewBox(raw[:16])
	require.Error(t, err)
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")

	key, created, err := LoadOrCreateKeyFile(dir)
	require.NoError(t, err)
	require.True(t, created)
	require.Len(t, key, KeySize)

	info, err := os.Stat(filepath.Join(dir, KeyFileName))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	again, created, err := LoadOrCreateKeyFile(dir)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, key, again)

	require.NoError(t, os.WriteFile(filepath.Join(dir, KeyFileName), []byte("garbage"), 0o600))
	_, _, err = LoadOrCreateKeyFile(dir)
	require.ErrorContains(t, err, "secret key")
}

// TestKeyFileCreatedOnceUnderRace: processes starting at once on a fresh data dir all end
// up with the same key, and none reads a key file that is still being written.
func TestKeyFileCreatedOnceUnderRace(t *testing.T) {
	t.Parallel()
	for range 50 {
		dir := filepath.Join(t.TempDir(), "data")
		keys := make([][]byte, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() { keys[i], _, errs[i] = LoadOrCreateKeyFile(dir) })
		}
		wg.Wait()
		for i := range keys {
			require.NoError(t, errs[i])
			require.Equal(t, keys[0], keys[i], "every starter reads the one key written")
		}
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, entries, 1, "no temporary file is left behind")
		fi, err := os.Stat(filepath.Join(dir, KeyFileName))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the key is readable by its owner only")
		di, err := os.Stat(dir)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	}
}
