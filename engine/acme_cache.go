package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"golang.org/x/crypto/acme/autocert"

	"github.com/hookflow/hookflow/engine/store"
)

// ACMECache is the ACME cache of HOOKFLOW_TLS_CACHE=db: the account key, certificates
// and challenge tokens in the database, so every process of a cluster serves the
// certificate one of them ordered. Each value is sealed with the secret key, as
// connection secrets are: a database dump never shows a private key.
func (e *Engine) ACMECache() autocert.Cache { return acmeCache{e} }

// LockACME waits until this process alone may order a certificate for name, across
// every process on the database; call the returned function when the order is done.
func (e *Engine) LockACME(ctx context.Context, name string) (func(), error) {
	return e.store.LockACME(ctx, name)
}

type acmeCache struct{ e *Engine }

func (c acmeCache) Get(ctx context.Context, name string) ([]byte, error) {
	sealed, err := c.e.store.GetACME(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, autocert.ErrCacheMiss
	}
	if err != nil {
		return nil, err
	}
	box, err := c.e.secretBox()
	if err != nil {
		return nil, err
	}
	data, err := box.Open(sealed)
	if err != nil {
		// Sealed with another key (a database restored beside a new secret key) or
		// damaged: a miss makes autocert order again and overwrite it, where an error
		// would fail every handshake for the name.
		c.e.log.Warn("ACME cache entry cannot be opened; treating it as missing", slog.String("name", name), slog.Any("err", err))
		return nil, autocert.ErrCacheMiss
	}
	return []byte(data), nil
}

func (c acmeCache) Put(ctx context.Context, name string, data []byte) error {
	box, err := c.e.secretBox()
	if err != nil {
		return err
	}
	sealed, err := box.Seal(string(data))
	if err != nil {
		return fmt.Errorf("seal acme cache %s: %w", name, err)
	}
	return c.e.store.PutACME(ctx, name, sealed, c.e.cfg.Now())
}

func (c acmeCache) Delete(ctx context.Context, name string) error {
	return c.e.store.DeleteACME(ctx, name)
}
