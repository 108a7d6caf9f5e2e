// Package ttlcache keeps values read from the store for a short, fixed time,
// so that a hot read (an access key, a role's policies) costs one query per
// TTL instead of one per call, while a change made on any node takes effect
// everywhere within the TTL.
package ttlcache

import (
	"sync"
	"time"
)

// Cache maps keys to values that are fresh for TTL after they were put. It
// holds at most Max entries (0 = 10000); when full it starts over, which only
// costs re-reads. Callers put only values that exist, so unknown keys
// cannot fill it.
type Cache[K comparable, V any] struct {
	TTL time.Duration
	Max int
	Now func() time.Time // nil = time.Now

	mu sync.Mutex
	m  map[K]entry[V]
}

type entry[V any] struct {
	v  V
	at time.Time
}

func (c *Cache[K, V]) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Get returns the value for k if it was put less than TTL ago.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok || now.Sub(e.at) >= c.TTL || now.Before(e.at) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put stores v for k, fresh from now.
func (c *Cache[K, V]) Put(k K, v V) {
	now := c.now()
	max := c.Max
	if max == 0 {
		max = 10000
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= max {
		c.m = make(map[K]entry[V])
	}
	c.m[k] = entry[V]{v: v, at: now}
	c.mu.Unlock()
}

// Delete forgets k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}
