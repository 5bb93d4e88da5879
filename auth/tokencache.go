package auth

import (
	"sync"
	"time"
)

// tokenCache remembers tokens that verified, so a client calling again with
// the same token skips the signature check and the claim decoding. It only
// ever says yes for a token that passed every check, until the token's exp
// (plus skew) passes; the JWKS changing clears it. Memory is bounded by
// size entries of at most MaxTokenBytes each. A nil *tokenCache is a cache
// that is off.
type tokenCache struct {
	size int

	mu      sync.RWMutex
	entries map[string]cachedToken
}

type cachedToken struct {
	sub     string
	expires time.Time // exp plus skew: the first instant it is refused
}

func newTokenCache(size int) *tokenCache {
	return &tokenCache{size: size, entries: make(map[string]cachedToken, size)}
}

// get returns the subject of token if it verified before and has not
// expired at now.
func (c *tokenCache) get(token string, now time.Time) (string, bool) {
	if c == nil {
		return "", false
	}
	c.mu.RLock()
	e, ok := c.entries[token]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return "", false
	}
	return e.sub, true
}

// put remembers a verified token. When the cache is full it first drops
// the expired entries and, if that frees nothing, an arbitrary eighth of
// them: cheap, and bounded, which matters more here than a perfect LRU.
func (c *tokenCache) put(token, sub string, expires, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		c.evictLocked(now)
	}
	c.entries[token] = cachedToken{sub: sub, expires: expires}
}

func (c *tokenCache) evictLocked(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) < c.size {
		return
	}
	drop := c.size/8 + 1
	for k := range c.entries {
		delete(c.entries, k)
		if drop--; drop == 0 {
			break
		}
	}
}

// clear forgets every token.
func (c *tokenCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}
