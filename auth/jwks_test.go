package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/example/tasks"
)

// loopDriver replaces the background loop's timer: the loop reports each
// wait on waits and sleeps until the test sends on ticks.
type loopDriver struct {
	waits chan time.Duration
	ticks chan time.Time
}

func newLoopDriver() *loopDriver {
	return &loopDriver{waits: make(chan time.Duration, 1), ticks: make(chan time.Time)}
}

func (d *loopDriver) after(w time.Duration) <-chan time.Time {
	d.waits <- w
	return d.ticks
}

// step lets the loop's current wait end and returns the wait it starts
// after its fetch, which is also the proof that the fetch is done.
func (d *loopDriver) step() time.Duration {
	d.ticks <- t0
	return <-d.waits
}

func wantHits(tb testing.TB, srv *jwksServer, want int64) {
	tb.Helper()
	if got := srv.hits.Load(); got != want {
		tb.Fatalf("JWKS fetched %d times, want %d", got, want)
	}
}

func mustAccept(tb testing.TB, v *Verifier, token, sub string) {
	tb.Helper()
	user, err := v.Verify(context.Background(), token)
	if err != nil {
		tb.Fatalf("refused: %v", err)
	}
	if user.ID != sub {
		tb.Fatalf("sub %q, want %q", user.ID, sub)
	}
}

// TestJWKSRotation publishes a new key beside the old one, then withdraws
// the old one: a token under the new kid is accepted after one on-demand
// refresh, both keys work while both are published, and the old key's
// tokens (even cached ones) stop working once it is gone.
func TestJWKSRotation(t *testing.T) {
	t.Parallel()
	old, _, _ := mustKeys(t)
	next := signingKey{kid: "ed-2", alg: jwa.EdDSA, priv: mustEd25519(t)}
	srv := mustJWKSServer(t, mustPublicJWK(t, old))
	loop := newLoopDriver()
	v := mustVerifier(t, Config{JWKSURL: srv.url(), RefreshInterval: 5 * time.Minute, after: loop.after})
	if w := <-loop.waits; w != 5*time.Minute {
		t.Fatalf("first background wait %v, want the refresh interval", w)
	}
	wantHits(t, srv, 1)
	oldToken := mustSign(t, old, goodClaims().without("iss", "aud"))
	newToken := mustSign(t, next, goodClaims().without("iss", "aud").with("sub", "user-2"))
	mustAccept(t, v, oldToken, "user-1")

	srv.publish(t, mustPublicJWK(t, old), mustPublicJWK(t, next))
	mustAccept(t, v, newToken, "user-2")
	wantHits(t, srv, 2)
	mustAccept(t, v, oldToken, "user-1")
	mustAccept(t, v, newToken, "user-2")
	wantHits(t, srv, 2)

	srv.publish(t, mustPublicJWK(t, next))
	loop.step()
	wantHits(t, srv, 3)
	_, err := v.Verify(context.Background(), oldToken)
	wantRefusal(t, err, tasks.KindUnauthenticated, msgInvalid)
	mustAccept(t, v, newToken, "user-2")
	wantHits(t, srv, 3) // the refused kid was within MinRefreshInterval of the last demand fetch
}

// TestJWKSUnknownKidFlood sends many tokens with made-up kids at once:
// together they cause one JWKS fetch, later ones within the interval none,
// and the next interval allows one more.
func TestJWKSUnknownKidFlood(t *testing.T) {
	t.Parallel()
	ed, _, _ := mustKeys(t)
	srv := mustJWKSServer(t, mustPublicJWK(t, ed))
	clock := newTestClock()
	const interval = 10 * time.Second
	v := mustVerifier(t, Config{JWKSURL: srv.url(), MinRefreshInterval: interval, Now: clock.Now})
	wantHits(t, srv, 1)

	attacker := mustEd25519(t)
	bogus := func(i int) string {
		return mustSignWith(t, jwa.EdDSA, attacker, map[string]any{"kid": fmt.Sprintf("bogus-%d", i)}, goodClaims())
	}
	const n = 64
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = bogus(i)
	}

	// Hold the JWKS response so that the requests pile up on the one fetch
	// in flight. The count below does not depend on how many do.
	release := srv.hold()
	errs := make([]error, n)
	var started, done sync.WaitGroup
	for i := range n {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			_, errs[i] = v.Verify(context.Background(), tokens[i])
		}()
	}
	started.Wait()
	release()
	done.Wait()
	for _, err := range errs {
		wantRefusal(t, err, tasks.KindUnauthenticated, msgInvalid)
	}
	wantHits(t, srv, 2)

	clock.advance(interval - time.Second)
	for i := range 8 {
		_, err := v.Verify(context.Background(), bogus(n+i))
		wantRefusal(t, err, tasks.KindUnauthenticated, msgInvalid)
	}
	wantHits(t, srv, 2)

	clock.advance(time.Second)
	for i := range 8 {
		_, err := v.Verify(context.Background(), bogus(2*n+i))
		wantRefusal(t, err, tasks.KindUnauthenticated, msgInvalid)
	}
	wantHits(t, srv, 3)
}

// TestJWKSDownAtStart starts while the issuer is down: New succeeds,
// asymmetric tokens get Unavailable (HMAC ones still work), and once the
// issuer is back the next on-demand refresh brings the keys.
func TestJWKSDownAtStart(t *testing.T) {
	t.Parallel()
	ed, _, _ := mustKeys(t)
	srv := mustJWKSServer(t, mustPublicJWK(t, ed))
	srv.down.Store(true)
	clock := newTestClock()
	v := mustVerifier(t, Config{JWKSURL: srv.url(), Secret: testSecret, Now: clock.Now})
	wantHits(t, srv, 1)
	token := mustSign(t, ed, goodClaims().without("iss", "aud"))

	_, err := v.Verify(context.Background(), token)
	wantRefusal(t, err, tasks.KindUnavailable, msgUnavailable)
	wantHits(t, srv, 2)
	mustAccept(t, v, mustSignWith(t, jwa.HS256, testSecret, nil, goodClaims()), "user-1")

	srv.down.Store(false)
	_, err = v.Verify(context.Background(), token)
	wantRefusal(t, err, tasks.KindUnavailable, msgUnavailable)
	wantHits(t, srv, 2) // rate-limited

	clock.advance(DefaultMinRefreshInterval)
	mustAccept(t, v, token, "user-1")
	wantHits(t, srv, 3)
}

// TestJWKSBackgroundRetry starts while the issuer is down and lets the
// background loop retry with growing backoff until the keys arrive, with
// no token asking.
func TestJWKSBackgroundRetry(t *testing.T) {
	t.Parallel()
	ed, srv, loop, v := mustIssuerDownAtStart(t)

	wantBetween(t, <-loop.waits, time.Second, 1250*time.Millisecond)
	wantBetween(t, loop.step(), 2*time.Second, 2500*time.Millisecond)
	wantBetween(t, loop.step(), 4*time.Second, 5*time.Second)
	wantHits(t, srv, 3)
	if v.jwks.keys.Load() != nil {
		t.Fatal("keys while the issuer is down")
	}

	srv.down.Store(false)
	if w := loop.step(); w != 5*time.Minute {
		t.Fatalf("wait after a good fetch %v, want the refresh interval", w)
	}
	wantHits(t, srv, 4)
	mustAccept(t, v, mustSign(t, ed, goodClaims()), "user-1")
	wantHits(t, srv, 4)

	// A failed refresh keeps the keys it had.
	srv.down.Store(true)
	wantBetween(t, loop.step(), time.Second, 1250*time.Millisecond)
	mustAccept(t, v, mustSign(t, ed, goodClaims().with("sub", "user-3")), "user-3")
}

// mustIssuerDownAtStart starts a verifier while its issuer is down, with a
// refresh interval of 5 minutes and its background loop driven by the
// test. The issuer publishes ed.
func mustIssuerDownAtStart(tb testing.TB) (ed signingKey, srv *jwksServer, loop *loopDriver, v *Verifier) {
	tb.Helper()
	ed, _, _ = mustKeys(tb)
	srv = mustJWKSServer(tb, mustPublicJWK(tb, ed))
	srv.down.Store(true)
	loop = newLoopDriver()
	v = mustVerifier(tb, Config{JWKSURL: srv.url(), RefreshInterval: 5 * time.Minute, after: loop.after})
	return ed, srv, loop, v
}

func wantBetween(tb testing.TB, got, lo, hi time.Duration) {
	tb.Helper()
	if got < lo || got > hi {
		tb.Fatalf("wait %v, want between %v and %v", got, lo, hi)
	}
}

// TestJWKSBadResponses checks that a JWKS the verifier cannot use leaves
// asymmetric tokens Unavailable rather than accepted or invalid.
func TestJWKSBadResponses(t *testing.T) {
	t.Parallel()
	ed, _, _ := mustKeys(t)
	oct, err := jwk.FromRaw([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	octSet := fmt.Sprintf(`{"keys":[%s]}`, mustJSON(t, oct))
	tests := []struct {
		name string
		body string
	}{
		{"not JSON", "<html>sign in</html>"},
		{"no keys", `{"keys":[]}`},
		{"only a symmetric key", octSet},
		{"over 1 MiB", `{"keys":[],"pad":"` + strings.Repeat("x", maxJWKSBytes) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mustJWKSServer(t)
			srv.publishRaw(tt.body)
			v := mustVerifier(t, Config{JWKSURL: srv.url()})
			_, err := v.Verify(context.Background(), mustSign(t, ed, goodClaims()))
			wantRefusal(t, err, tasks.KindUnavailable, msgUnavailable)
		})
	}
}

func mustJSON(tb testing.TB, v jwk.Key) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestJWKSCacheControl checks that a shorter max-age brings the next
// background refresh forward, never under a minute, and never later than
// the refresh interval.
func TestJWKSCacheControl(t *testing.T) {
	t.Parallel()
	s := &jwksSource{interval: 15 * time.Minute}
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 15 * time.Minute},
		{"public, max-age=300", 5 * time.Minute},
		{"max-age=3600", 15 * time.Minute},
		{"max-age=5", time.Minute},
		{"max-age=0", time.Minute},
		{"no-store", 15 * time.Minute},
		{"max-age=junk", 15 * time.Minute},
	}
	for _, tt := range tests {
		if got := s.keepFor(tt.header); got != tt.want {
			t.Errorf("Cache-Control %q: %v, want %v", tt.header, got, tt.want)
		}
	}

	ed, _, _ := mustKeys(t)
	srv := mustJWKSServer(t, mustPublicJWK(t, ed))
	srv.setCacheControl("max-age=120")
	loop := newLoopDriver()
	mustVerifier(t, Config{JWKSURL: srv.url(), after: loop.after})
	if w := <-loop.waits; w != 2*time.Minute {
		t.Fatalf("background wait %v, want the max-age", w)
	}
}
