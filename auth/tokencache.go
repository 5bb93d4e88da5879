package auth

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"
)

// tokenCache remembers tokens that verified, so a client calling again with
// the same token skips the signature check and the claim decoding. It only
// ever says yes for a token that passed every check, until the token's exp
// (plus skew) passes; the JWKS changing clears it. Entries are keyed by the
// token's SHA-256, so an entry is about a hundred bytes plus the subject
// whatever the token's size, and memory is bounded by size entries. A nil
// *tokenCache is a cache that is off.
type tokenCache struct {
	size int

	hits, misses atomic.Uint64 // what get answered, for Stats

	mu      sync.RWMutex
	entries map[tokenKey]cachedToken
}

// tokenKey is a token's SHA-256: as good as the token itself for telling
// tokens apart, and a fraction of its size.
type tokenKey [sha256.Size]byte

func keyOf(token string) tokenKey {
	// Hashing a copy on the stack saves an allocation per call for tokens
	// up to 2 KiB (Better-Auth's are well under); longer ones are copied
	// to the heap by append.
	var buf [2 << 10]byte
	return sha256.Sum256(append(buf[:0], token...))
}

type cachedToken struct {
	sub     string
	expires time.Time // exp plus skew: the first instant it is refused
}

func newTokenCache(size int) *tokenCache {
	return &tokenCache{size: size, entries: make(map[tokenKey]cachedToken)}
}

// get returns the subject of token and when it stops being accepted, if it
// verified before and has not expired at now.
func (c *tokenCache) get(token string, now time.Time) (string, time.Time, bool) {
	if c == nil {
		return "", time.Time{}, false
	}
	k := keyOf(token)
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		c.misses.Add(1)
		return "", time.Time{}, false
	}
	c.hits.Add(1)
	return e.sub, e.expires, true
}

// put remembers a verified token. When the cache is full it first drops
// the expired entries and, if that frees nothing, an arbitrary eighth of
// them: cheap, and bounded, which matters more here than a perfect LRU.
func (c *tokenCache) put(token, sub string, expires, now time.Time) {
	if c == nil {
		return
	}
	k := keyOf(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		c.evictLocked(now)
	}
	c.entries[k] = cachedToken{sub: sub, expires: expires}
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
