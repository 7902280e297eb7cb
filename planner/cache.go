package planner

import "sync"

// Cache holds plans by statement text. It is bounded: when full, an
// arbitrary half of the entries is dropped (plans are cheap to rebuild
// and statement mixes are small, so no LRU bookkeeping on the hot path).
// A nil *Cache caches nothing. Safe for concurrent use.
type Cache struct {
	mu     sync.RWMutex
	max    int
	plans  map[string]*Plan
	shapes map[string]*shapeEntry
}

// NewCache returns a cache of at most max plans; max <= 0 returns nil.
func NewCache(max int) *Cache {
	if max <= 0 {
		return nil
	}
	return &Cache{max: max, plans: make(map[string]*Plan), shapes: make(map[string]*shapeEntry)}
}

// get returns the cached plan of sql.
func (c *Cache) get(sql string) (*Plan, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	p, ok := c.plans[sql]
	c.mu.RUnlock()
	return p, ok
}

// put stores a plan.
func (c *Cache) put(sql string, p *Plan) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if len(c.plans) >= c.max {
		n := 0
		for k := range c.plans {
			delete(c.plans, k)
			n++
			if n >= c.max/2+1 {
				break
			}
		}
	}
	c.plans[sql] = p
	c.mu.Unlock()
}

// Len returns the number of cached plans.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.plans)
}

// getShape returns the router entry of a statement shape.
func (c *Cache) getShape(key string) (*shapeEntry, bool) {
	c.mu.RLock()
	e, ok := c.shapes[key]
	c.mu.RUnlock()
	return e, ok
}

// putShape stores a router entry by shape.
func (c *Cache) putShape(key string, e *shapeEntry) {
	c.mu.Lock()
	if len(c.shapes) >= c.max {
		clear(c.shapes)
	}
	c.shapes[key] = e
	c.mu.Unlock()
}
