package auth

import (
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// TestStats counts JWKS fetches by result, through the background loop
// while the issuer is down and after it is back, and token cache lookups
// by whether the token had verified before.
func TestStats(t *testing.T) {
	t.Parallel()
	ed, srv, loop, v := mustIssuerDownAtStart(t)
	<-loop.waits
	loop.step()
	wantStats(t, v, Stats{JWKSFetchFailures: 2})

	srv.down.Store(false)
	loop.step()
	wantStats(t, v, Stats{JWKSFetches: 1, JWKSFetchFailures: 2})

	token := mustSign(t, ed, goodClaims())
	for range 3 {
		mustAccept(t, v, token, "user-1")
	}
	mustAccept(t, v, mustSign(t, ed, goodClaims().with("sub", "user-2")), "user-2")
	wantStats(t, v, Stats{JWKSFetches: 1, JWKSFetchFailures: 2, TokenCacheHits: 2, TokenCacheMisses: 2})
}

// TestStatsWithoutCache: with the cache off there is nothing to count.
func TestStatsWithoutCache(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, Config{Secret: testSecret, TokenCacheSize: -1})
	token := mustSignWith(t, jwa.HS256, testSecret, nil, goodClaims())
	mustAccept(t, v, token, "user-1")
	mustAccept(t, v, token, "user-1")
	wantStats(t, v, Stats{})
}

func wantStats(tb testing.TB, v *Verifier, want Stats) {
	tb.Helper()
	if got := v.Stats(); got != want {
		tb.Errorf("stats %+v, want %+v", got, want)
	}
}
