package auth

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestTokenCache(t *testing.T) {
	t.Parallel()
	c := newTokenCache(16)
	exp := t0.Add(time.Minute)
	c.put("a", "user-a", exp, t0)
	if sub, expires, ok := c.get("a", t0); !ok || sub != "user-a" || !expires.Equal(exp) {
		t.Fatalf("get before exp: %q, %v, %v", sub, expires, ok)
	}
	if _, _, ok := c.get("a", exp); ok {
		t.Fatal("get at exp succeeded")
	}
	if _, _, ok := c.get("b", t0); ok {
		t.Fatal("get of an unknown token succeeded")
	}

	for i := range 1000 {
		c.put(fmt.Sprint(i), "u", exp, t0)
		if n := len(c.entries); n > 16 {
			t.Fatalf("%d entries in a cache of 16", n)
		}
	}
	c.clear()
	if n := len(c.entries); n != 0 {
		t.Fatalf("%d entries after clear", n)
	}

	var off *tokenCache // a nil cache is off
	off.put("a", "u", exp, t0)
	if _, _, ok := off.get("a", t0); ok {
		t.Fatal("nil cache remembered")
	}
	off.clear()
}

// TestTokenCacheLongTokens: tokens longer than keyOf's stack buffer are
// remembered and told apart like short ones.
func TestTokenCacheLongTokens(t *testing.T) {
	t.Parallel()
	c := newTokenCache(16)
	exp := t0.Add(time.Minute)
	long := strings.Repeat("a", 5000)
	c.put(long+"1", "user-1", exp, t0)
	if sub, _, ok := c.get(long+"1", t0); !ok || sub != "user-1" {
		t.Fatalf("get long token: %q, %v", sub, ok)
	}
	if _, _, ok := c.get(long+"2", t0); ok {
		t.Fatal("a different long token hit")
	}
}
