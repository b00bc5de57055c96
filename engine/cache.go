package engine

import (
	"errors"
	"sync"
	"time"
)

// cacheTTL bounds how long a process serves a cached webhook or connection after another
// process changed it. Changes made through this process clear its caches at once.
const cacheTTL = time.Second

// cacheMax bounds a cache; past it the cache starts over (the misses cost a query each).
const cacheMax = 10000

// ttlCache keeps values, and "does not exist" answers, for cacheTTL: the webhook path
// then costs no query per request, and a flood of unknown tokens costs one per token per
// second. Other errors (a cancelled request, a database error) are not kept: they say
// nothing about the key, and keeping them would serve one caller's trouble to all.
type ttlCache[V any] struct {
	mu    sync.RWMutex
	items map[string]ttlEntry[V]
	now   func() time.Time
}

type ttlEntry[V any] struct {
	val     V
	err     error
	expires time.Time
}

func newTTLCache[V any](now func() time.Time) *ttlCache[V] {
	return &ttlCache[V]{items: map[string]ttlEntry[V]{}, now: now}
}

// get returns the cached value of key, or loads and caches it.
func (c *ttlCache[V]) get(key string, load func() (V, error)) (V, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.items[key]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.val, e.err
	}
	v, err := load()
	if !cacheable(err) {
		return v, err
	}
	c.mu.Lock()
	if len(c.items) >= cacheMax {
		clear(c.items)
	}
	c.items[key] = ttlEntry[V]{val: v, err: err, expires: now.Add(cacheTTL)}
	c.mu.Unlock()
	return v, err
}

// reset forgets everything.
func (c *ttlCache[V]) reset() {
	c.mu.Lock()
	clear(c.items)
	c.mu.Unlock()
}

// cacheable reports whether a load's outcome is an answer worth keeping: a value, or word
// that the key does not exist.
func cacheable(err error) bool {
	var missing missingConnection
	return err == nil || errors.Is(err, ErrNotFound) || errors.As(err, &missing)
}
