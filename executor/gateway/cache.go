package gateway

import "sync"

// Parsing a statement costs far more than relaying it (pg_query parses to
// a protobuf tree), and coordinators send the same texts over and over, so
// the gateway remembers its verdicts by text. A verdict depends on the
// text and the Policy only, both fixed; the PREPARE TRANSACTIONs a
// verdict lists are still checked with the validator every time.

const (
	// cacheEntries bounds the verdicts remembered.
	cacheEntries = 4096
	// cacheMaxText bounds the texts remembered (longer ones are parsed
	// every time), so the cache holds at most cacheEntries*cacheMaxText
	// bytes of text.
	cacheMaxText = 2048
)

type verdict struct {
	v   Verdict
	ref *Refusal
}

// verdictCache is a bounded map from statement text to verdict, safe for
// concurrent use; when full, an arbitrary entry makes room.
type verdictCache struct {
	max int // entries (0: cacheEntries)
	mu  sync.Mutex
	m   map[string]verdict
}

// classify returns p's verdict on sql, from the cache when it can.
func (c *verdictCache) classify(p Policy, sql string) (Verdict, *Refusal) {
	if len(sql) > cacheMaxText {
		return p.Classify(sql)
	}
	c.mu.Lock()
	e, ok := c.m[sql]
	c.mu.Unlock()
	if ok {
		return e.v, e.ref
	}
	v, ref := p.Classify(sql)
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]verdict{}
	}
	max := c.max
	if max == 0 {
		max = cacheEntries
	}
	if len(c.m) >= max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[sql] = verdict{v, ref}
	c.mu.Unlock()
	return v, ref
}
