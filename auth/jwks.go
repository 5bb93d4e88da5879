package auth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/httpcc"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// maxJWKSBytes bounds a JWKS response; real ones are a few KiB.
const maxJWKSBytes = 1 << 20

// Retry pacing after a failed fetch: 1s, 2s, 4s, ... up to maxBackoff (or
// the refresh interval, if shorter), each stretched by up to 25% so that
// replicas restarted together do not retry in step.
const (
	firstBackoff = time.Second
	maxBackoff   = 2 * time.Minute
)

// jwksSource keeps the issuer's keys. It is hand-rolled on jwk.Parse rather
// than built on jwk.Cache because the contract needs what the cache cannot
// give: New must succeed while the issuer is down, unknown kids must
// trigger a rate-limited refresh that concurrent requests share, and the
// clock and retry timer must be injectable so tests need not sleep. (It
// does not use jwk.Fetch either, which runs on a process-wide worker pool
// outside our Close.)
type jwksSource struct {
	url       string
	client    *http.Client
	timeout   time.Duration
	interval  time.Duration
	minDemand time.Duration
	now       func() time.Time
	after     func(time.Duration) <-chan time.Time
	log       *slog.Logger
	onChange  func() // called when a fetch brings keys that differ from before

	keys atomic.Pointer[keySet] // nil until a fetch has succeeded

	fetched, failed atomic.Uint64 // fetches that brought keys, and that did not

	ctx    context.Context // ends at close; every fetch runs under it
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	closed     bool       // no fetch may start: close is waiting for them
	inflight   *fetchCall // the fetch in progress, shared by all who need one
	lastDemand time.Time  // when an unknown kid last started a fetch
}

// fetchCall is one JWKS request that any number of callers wait on.
type fetchCall struct {
	done chan struct{}
	next time.Duration // how long the result may be kept; set when err is nil
	err  error
}

// newJWKSSource fetches the keys once, waiting at most until ctx ends, and
// starts the background refresh. A failed first fetch is logged, not
// returned: the loop keeps trying and asymmetric tokens get Unavailable
// meanwhile.
func newJWKSSource(ctx context.Context, c Config, onChange func()) *jwksSource {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &jwksSource{
		url: c.JWKSURL, client: c.HTTPClient, timeout: c.FetchTimeout,
		interval: c.RefreshInterval, minDemand: c.MinRefreshInterval,
		now: c.Now, after: c.after, log: c.Logger, onChange: onChange,
		ctx: bg, cancel: cancel,
	}
	f := s.join()
	wait := s.backoff(1)
	select {
	case <-f.done:
		if f.err == nil {
			wait = f.next
		}
	case <-ctx.Done():
		s.log.Warn("auth: gave up waiting for the first JWKS fetch; it continues in the background", "url", s.url)
	}
	s.wg.Add(1)
	go s.run(wait)
	return s
}

// close stops the background refresh and waits for any fetch to end.
func (s *jwksSource) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// current returns the keys, refreshing them first if they lack kid (or if
// there are none yet). It returns nil only if no fetch has ever succeeded.
func (s *jwksSource) current(ctx context.Context, kid string) *keySet {
	ks := s.keys.Load()
	if ks != nil && (kid == "" || ks.has(kid)) {
		return ks
	}
	s.refreshOnDemand(ctx)
	return s.keys.Load()
}

// refreshOnDemand fetches the keys because a token named a kid we do not
// have. Callers that arrive while a fetch is running wait for it instead of
// starting another; callers within minDemand of the last demand fetch get
// the keys as they are. ctx only bounds the wait: the fetch itself is
// shared, so one impatient caller does not cancel it for the others.
func (s *jwksSource) refreshOnDemand(ctx context.Context) {
	s.mu.Lock()
	f := s.inflight
	if f == nil {
		now := s.now()
		if !s.lastDemand.IsZero() && now.Sub(s.lastDemand) < s.minDemand {
			s.mu.Unlock()
			return
		}
		s.lastDemand = now
		f = s.startLocked()
	}
	s.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
	}
}

// join returns the fetch in progress, starting one if there is none.
func (s *jwksSource) join() *fetchCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != nil {
		return s.inflight
	}
	return s.startLocked()
}

// startLocked starts a fetch; s.mu must be held.
func (s *jwksSource) startLocked() *fetchCall {
	f := &fetchCall{done: make(chan struct{})}
	if s.closed {
		f.err = errors.New("verifier closed")
		close(f.done)
		return f
	}
	s.inflight = f
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ks, next, err := s.fetch()
		if err == nil {
			s.fetched.Add(1)
			old := s.keys.Swap(ks)
			if !sameKeys(old, ks) && s.onChange != nil {
				s.onChange()
			}
			s.log.Debug("auth: JWKS fetched", "url", s.url, "keys", len(ks.keys))
		} else {
			s.failed.Add(1)
			s.log.Warn("auth: JWKS fetch failed", "url", s.url, "err", err)
		}
		f.next, f.err = next, err
		s.mu.Lock()
		s.inflight = nil
		s.mu.Unlock()
		close(f.done)
	}()
	return f
}

// run refreshes the keys until close: after the interval (or the issuer's
// max-age) when the last fetch worked, with growing backoff when it failed.
func (s *jwksSource) run(wait time.Duration) {
	defer s.wg.Done()
	failures := 0
	if s.keys.Load() == nil {
		failures = 1
	}
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.after(wait):
		}
		f := s.join()
		select {
		case <-s.ctx.Done():
			return
		case <-f.done:
		}
		if f.err != nil {
			failures++
			wait = s.backoff(failures)
		} else {
			failures = 0
			wait = f.next
		}
	}
}

// backoff is the wait before retry number n (from 1) after failures.
func (s *jwksSource) backoff(n int) time.Duration {
	d := min(s.interval, maxBackoff)
	if n < 30 {
		d = min(d, firstBackoff<<(n-1))
	}
	return d + rand.N(d/4+1)
}

// fetch requests and parses the JWKS, and says how long to keep it.
func (s *jwksSource) fetch() (*keySet, time.Duration, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("JWKS answered %s", res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("reading JWKS: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, 0, errors.New("JWKS larger than 1 MiB")
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, 0, fmt.Errorf("parsing JWKS: %w", err)
	}
	ks, err := newKeySet(set)
	if err != nil {
		return nil, 0, err
	}
	return ks, s.keepFor(res.Header.Get("Cache-Control")), nil
}

// keepFor honours a Cache-Control max-age shorter than the refresh
// interval, but never refreshes more than once a minute because of it.
func (s *jwksSource) keepFor(cacheControl string) time.Duration {
	if cacheControl == "" {
		return s.interval
	}
	cc, err := httpcc.ParseResponse(cacheControl)
	if err != nil {
		return s.interval
	}
	age, ok := cc.MaxAge()
	if !ok || age >= uint64(s.interval/time.Second) {
		return s.interval
	}
	return max(time.Duration(age)*time.Second, min(time.Minute, s.interval))
}

// sameKeys reports whether two snapshots hold the same keys in the same
// order.
func sameKeys(a, b *keySet) bool {
	if a == nil || b == nil || len(a.keys) != len(b.keys) {
		return a == b
	}
	for i := range a.keys {
		ka, kb := a.keys[i], b.keys[i]
		eq, ok := ka.raw.(interface{ Equal(crypto.PublicKey) bool })
		if ka.kid != kb.kid || ka.alg != kb.alg || !ok || !eq.Equal(kb.raw) {
			return false
		}
	}
	return true
}
