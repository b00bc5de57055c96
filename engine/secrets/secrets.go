// Package secrets encrypts connection secrets at rest with AES-256-GCM.
//
// A sealed value is the text "v1:" followed by the base64 of nonce and ciphertext, so the
// format can change later without guessing. The key comes from HOOKFLOW_SECRET_KEY or
// from a key file generated into the data directory on first start.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

// KeyFileName is the name of the generated key file inside the data directory.
const KeyFileName = "secret.key"

const sealedPrefix = "v1:"

// Box seals and opens secrets with one key. It is safe for concurrent use.
type Box struct {
	aead        cipher.AEAD
	fingerprint string
}

// Fingerprint identifies the key without revealing it: processes sharing a database
// compare fingerprints to catch one started with a different key.
func (b *Box) Fingerprint() string { return b.fingerprint }

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("create aes cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("create gcm: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("hookflow secret key fingerprint v1"))
	return &Box{aead: aead, fingerprint: hex.EncodeToString(mac.Sum(nil)[:16])}, nil
}

// Seal encrypts plaintext with a fresh random nonce.
func (b *Box) Seal(plaintext string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("read nonce: %w", err)
	}
	sealed := b.aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return sealedPrefix + base64.StdEncoding.EncodeToString(sealed), nil
}

// ErrDecrypt means a sealed value could not be opened: the key differs from the one that
// sealed it, or the value was altered.
var ErrDecrypt = errors.New("cannot decrypt secret: wrong key or corrupted value")

// Open decrypts a value made by Seal.
func (b *Box) Open(sealed string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", fmt.Errorf("open secret: unknown format")
	}
	data, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return "", fmt.Errorf("open secret: %w", err)
	}
	n := b.aead.NonceSize()
	if len(data) < n+b.aead.Overhead() {
		return "", fmt.Errorf("open secret: value too short")
	}
	plain, err := b.aead.Open(nil, data[:n], data[n:], nil)
	if err != nil {
		return "", ErrDecrypt
	}
	return string(plain), nil
}

// ParseKey decodes a key given as 64 hex digits or as standard or URL-safe base64 of 32
// bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("secret key must be %d bytes as 64 hex digits or base64", KeySize)
}

// LoadOrCreateKeyFile reads the key file in dir, creating it with a random key and mode
// 0600 when it does not exist. The second result says whether it was created.
func LoadOrCreateKeyFile(dir string) ([]byte, bool, error) {
	path := filepath.Join(dir, KeyFileName)
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := ParseKey(string(data))
		if err != nil {
			return nil, false, fmt.Errorf("read secret key file %s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("read secret key file %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data dir %s: %w", dir, err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("generate secret key: %w", err)
	}
	// The key is written whole to a temporary file, synced, and only then linked into
	// place: a second process starting at once either finds no key file or a complete
	// one, never an empty one. Link, unlike rename, fails on an existing key, so the first
	// writer's key wins and the other process reads it.
	tmp, err := os.CreateTemp(dir, KeyFileName+".*.tmp")
	if err != nil {
		return nil, false, fmt.Errorf("create secret key file in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("create secret key file %s: %w", tmp.Name(), err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("write secret key file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("sync secret key file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return nil, false, fmt.Errorf("close secret key file %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKeyFile(dir)
		}
		return nil, false, fmt.Errorf("create secret key file %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		// The new name must survive a power cut too.
		_ = d.Sync()
		d.Close()
	}
	return key, true, nil
}
