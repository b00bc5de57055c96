package expr

import "sync"

// CacheSize bounds the number of compiled programs kept by Compile.
const CacheSize = 10_000

// maxCachedSource keeps very long sources (large literal text in templates)
// out of the cache: they are rare, and the cache's memory should be bounded by
// its entry count rather than by what users paste.
const maxCachedSource = 4 << 10

// cache holds compiled programs process-wide. Eviction is generational: new
// entries go to cur; when cur is full it becomes old and a fresh cur starts,
// and a hit in old moves the entry back to cur. Programs used since the last
// rotation survive, the rest are dropped in bulk, with O(1) work per call and
// at most CacheSize entries in total.
var cache = newProgramCache(CacheSize)

type programCache struct {
	mu       sync.Mutex
	cur, old map[string]*Program
	perGen   int
}

func newProgramCache(size int) *programCache {
	per := max(size/2, 1)
	return &programCache{cur: make(map[string]*Program), old: map[string]*Program{}, perGen: per}
}

func (c *programCache) get(src string) *Program {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.cur[src]; ok {
		return p
	}
	if p, ok := c.old[src]; ok {
		delete(c.old, src)
		c.addLocked(src, p)
		return p
	}
	return nil
}

func (c *programCache) put(src string, p *Program) {
	if len(src) > maxCachedSource {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addLocked(src, p)
}

func (c *programCache) addLocked(src string, p *Program) {
	if len(c.cur) >= c.perGen {
		c.old = c.cur
		c.cur = make(map[string]*Program)
	}
	c.cur[src] = p
}

func (c *programCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
