package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/store"
)

// credentials is the connectors.CredentialStore of one connection: what a connector uses
// to keep a secret its service rotates on use (an OAuth2 refresh token). Every process of
// a cluster shares the row, so a write is a compare-and-swap on the values the caller
// started from, under the row's lock.
type credentials struct {
	e         *Engine
	name      string
	connector string
}

var _ connectors.CredentialStore = (*credentials)(nil)

// CurrentSecrets reads the connection's secrets from the database, past every cache.
func (c *credentials) CurrentSecrets(ctx context.Context) (map[string]string, error) {
	row, err := c.e.store.ConnectionByName(ctx, c.name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, connectors.Permanent(missingConnection(c.name))
	}
	if err != nil {
		return nil, fmt.Errorf("read secrets of connection %s: %w", c.name, err)
	}
	return c.e.openSecrets(row)
}

// SwapSecrets stores updated, a subset of the connection's secret settings, if every key
// of old still holds its value; other secrets stay as they are. It returns false and
// writes nothing when another writer got there first.
func (c *credentials) SwapSecrets(ctx context.Context, old, updated map[string]string) (bool, error) {
	box, err := c.e.secretBox()
	if err != nil {
		return false, err
	}
	secret := map[string]bool{}
	if conn, ok := c.e.reg.Connector(c.connector); ok {
		for _, f := range conn.Connection {
			secret[f.Name] = f.Secret
		}
	}
	swapped, err := c.e.store.SwapConnectionSecrets(ctx, c.name, c.e.cfg.Now(), func(sealedJSON string) (string, error) {
		plain, err := c.e.openSecrets(&store.Connection{Name: c.name, Secrets: sealedJSON})
		if err != nil {
			return "", err
		}
		for k, v := range old {
			if cur, ok := plain[k]; !ok || cur != v {
				return "", store.ErrSecretsChanged
			}
		}
		for k, v := range updated {
			// Only secret settings live sealed; a connector cannot turn a plain
			// setting into a secret or write one the spec does not have.
			if _, stored := plain[k]; !secret[k] && !stored {
				return "", fmt.Errorf("%s is not a secret setting of %s connections", k, c.connector)
			}
			plain[k] = v
		}
		out := make(map[string]string, len(plain))
		for k, v := range plain {
			s, err := box.Seal(v)
			if err != nil {
				return "", fmt.Errorf("seal secret %s: %w", k, err)
			}
			out[k] = s
		}
		b, err := json.Marshal(out)
		if err != nil {
			return "", fmt.Errorf("encode secrets: %w", err)
		}
		return string(b), nil
	})
	if err != nil {
		return false, translate(err)
	}
	if swapped {
		// This process's cached copy is stale now; others' expire within the cache's
		// time to live, and a connector that finds its secret refused reads it afresh.
		c.e.conns.reset()
		c.e.log.Info("Connection secrets rotated", slog.String("connection", c.name),
			slog.Any("secrets", slices.Sorted(maps.Keys(updated))))
	}
	return swapped, nil
}
