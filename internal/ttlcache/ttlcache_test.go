package ttlcache

import (
	"testing"
	"time"
)

func TestValuesGoStaleAfterTTL(t *testing.T) {
	clock := time.Unix(1700000000, 0)
	c := Cache[string, int]{TTL: time.Second, Now: func() time.Time { return clock }}
	c.Put("a", 1)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("fresh value: %v %v", v, ok)
	}
	clock = clock.Add(time.Second - time.Nanosecond)
	if _, ok := c.Get("a"); !ok {
		t.Fatal("stale before the TTL")
	}
	clock = clock.Add(time.Nanosecond)
	if _, ok := c.Get("a"); ok {
		t.Fatal("served at the TTL")
	}
	// A clock that steps back must not make an old value look fresh for longer.
	c.Put("b", 2)
	clock = clock.Add(-time.Hour)
	if _, ok := c.Get("b"); ok {
		t.Fatal("served a value put in the future")
	}
}

func TestCacheIsBounded(t *testing.T) {
	c := Cache[int, int]{TTL: time.Minute, Max: 3}
	for i := 0; i < 10; i++ {
		c.Put(i, i)
		if len(c.m) > 3 {
			t.Fatalf("%d entries; max 3", len(c.m))
		}
	}
	if v, ok := c.Get(9); !ok || v != 9 {
		t.Fatal("the newest entry is gone")
	}
	c.Delete(9)
	if _, ok := c.Get(9); ok {
		t.Fatal("deleted entry served")
	}
}
