package auth

// Stats counts what a Verifier has done since New, for an operator's
// metrics: failing JWKS fetches mean asymmetric tokens will be refused
// once the keys in hand no longer match, and a falling share of cache hits
// means more calls pay for a full signature check.
type Stats struct {
	JWKSFetches       uint64 // JWKS fetches that brought keys
	JWKSFetchFailures uint64 // JWKS fetches that failed
	TokenCacheHits    uint64 // tokens that had verified before, so were not checked again
	TokenCacheMisses  uint64 // tokens the cache did not have, so were verified in full
}

// Stats returns the counts so far. Without a JWKS or a token cache their
// counts stay zero.
func (v *Verifier) Stats() Stats {
	var s Stats
	if v.jwks != nil {
		s.JWKSFetches, s.JWKSFetchFailures = v.jwks.fetched.Load(), v.jwks.failed.Load()
	}
	if v.cache != nil {
		s.TokenCacheHits, s.TokenCacheMisses = v.cache.hits.Load(), v.cache.misses.Load()
	}
	return s
}
