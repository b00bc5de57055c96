package signature

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
	"time"
)

// algorithms maps Config.Algorithm to its hash.
var algorithms = map[string]func() hash.Hash{
	"sha1":   sha1.New,
	"sha256": sha256.New,
	"sha512": sha512.New,
}

// header returns the first value of a header, trimmed; "" when absent.
func header(r *Request, name string) string {
	return strings.TrimSpace(r.Header.Get(name))
}

// equalSecret compares a received value with a secret in constant time. Both sides are
// hashed first so that neither the comparison time nor an early length check reveals the
// secret's length.
func equalSecret(got, secret string) bool {
	a := sha256.Sum256([]byte(got))
	b := sha256.Sum256([]byte(secret))
	return hmac.Equal(a[:], b[:])
}

// secretKeys returns the non-empty secrets as HMAC keys.
func secretKeys(secrets []string) [][]byte {
	keys := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		if s != "" {
			keys = append(keys, []byte(s))
		}
	}
	return keys
}

// computeMAC returns the HMAC of the concatenated parts.
func computeMAC(newHash func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(newHash, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// matchAny reports whether one of sigs equals the MAC of parts under one of keys. Each MAC
// is compared with hmac.Equal; the loop does not stop early within a key, so the time
// taken does not depend on which signature matched.
func matchAny(newHash func() hash.Hash, keys, sigs [][]byte, parts ...[]byte) bool {
	for _, key := range keys {
		want := computeMAC(newHash, key, parts...)
		ok := false
		for _, sig := range sigs {
			if hmac.Equal(want, sig) {
				ok = true
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// decodeHex decodes a hex signature, upper or lower case.
func decodeHex(s string) ([]byte, error) {
	return hex.DecodeString(s)
}

// decodeBase64 decodes standard base64, with or without padding, and also accepts the
// URL-safe alphabet.
func decodeBase64(s string) ([]byte, error) {
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// decodeSignature decodes one signature taken from header and checks its length against
// the hash's output size.
func decodeSignature(headerName, value, encoding string, size int) ([]byte, *Error) {
	var sig []byte
	var err error
	if encoding == "base64" {
		sig, err = decodeBase64(value)
	} else {
		sig, err = decodeHex(value)
	}
	if err != nil {
		return nil, malformed(headerName, "signature is not "+encoding)
	}
	if len(sig) != size {
		return nil, malformed(headerName, "signature is "+strconv.Itoa(len(sig))+" bytes, want "+strconv.Itoa(size))
	}
	return sig, nil
}

// verifyOne checks a single encoded signature from headerName against the MAC of parts
// under every secret.
func verifyOne(headerName, value, encoding string, newHash func() hash.Hash, secrets []string, parts ...[]byte) *Error {
	sig, e := decodeSignature(headerName, value, encoding, newHash().Size())
	if e != nil {
		return e
	}
	if !matchAny(newHash, secretKeys(secrets), [][]byte{sig}, parts...) {
		return mismatch()
	}
	return nil
}

// maxUnixSeconds is 9999-12-31T23:59:59Z; later timestamps are refused as out of range
// so that no arithmetic on them can overflow.
const maxUnixSeconds = 253402300799

// parseUnix parses a decimal unix timestamp in seconds, or in milliseconds when millis is
// set, as found in headerName.
func parseUnix(headerName, v string, millis bool) (time.Time, *Error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, malformed(headerName, "timestamp is not a decimal unix time")
	}
	limit := int64(maxUnixSeconds)
	if millis {
		limit *= 1000
	}
	if n < 0 || n > limit {
		return time.Time{}, malformed(headerName, "timestamp out of range")
	}
	if millis {
		return time.UnixMilli(n), nil
	}
	return time.Unix(n, 0), nil
}

// checkFresh rejects a signed timestamp more than tolerance away from now, in the past or
// the future.
func checkFresh(ts, now time.Time, tolerance time.Duration) *Error {
	age := now.Sub(ts)
	switch {
	case age > tolerance:
		return reject(CodeStaleTimestamp, "timestamp too old (%s > %s)", roundAge(age, tolerance), tolerance)
	case -age > tolerance:
		return reject(CodeStaleTimestamp, "timestamp too far in the future (%s > %s)", roundAge(-age, tolerance), tolerance)
	}
	return nil
}

// roundAge rounds an age to whole seconds, or to milliseconds when whole seconds would
// print it equal to the tolerance it exceeds.
func roundAge(age, tolerance time.Duration) time.Duration {
	if r := age.Round(time.Second); r > tolerance {
		return r
	}
	return age.Round(time.Millisecond)
}
