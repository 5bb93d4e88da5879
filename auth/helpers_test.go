package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/example/tasks"
)

// t0 is "now" for every test clock.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	testIssuer   = "https://app.example.com"
	testAudience = "https://api.example.com"
)

// testSecret is a 32-byte HMAC secret.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// signingKey is a private key with the kid and alg it signs under.
type signingKey struct {
	kid    string
	alg    jwa.SignatureAlgorithm
	priv   crypto.Signer
	jwkAlg string // "alg" published in the JWKS; "" for none
}

func (k signingKey) public() crypto.PublicKey { return k.priv.Public() }

var (
	keysOnce sync.Once
	edKey    signingKey
	ecKey    signingKey
	rsaKey   signingKey
)

// mustKeys returns an Ed25519, a P-256 and an RSA-2048 key, generated
// once per test binary because RSA generation is slow.
func mustKeys(tb testing.TB) (ed, ec, rs signingKey) {
	tb.Helper()
	keysOnce.Do(func() {
		edKey = signingKey{kid: "ed-1", alg: jwa.EdDSA, priv: mustEd25519(tb)}
		ecKey = signingKey{kid: "ec-1", alg: jwa.ES256, priv: mustECDSA(tb, elliptic.P256())}
		rsaKey = signingKey{kid: "rsa-1", alg: jwa.RS256, priv: mustRSA(tb, 2048)}
	})
	return edKey, ecKey, rsaKey
}

func mustEd25519(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return priv
}

func mustECDSA(tb testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	tb.Helper()
	priv, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return priv
}

func mustRSA(tb testing.TB, bits int) *rsa.PrivateKey {
	tb.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		tb.Fatal(err)
	}
	return priv
}

// mustPublicJWK is the JWKS entry for k.
func mustPublicJWK(tb testing.TB, k signingKey) jwk.Key {
	tb.Helper()
	key, err := jwk.FromRaw(k.public())
	if err != nil {
		tb.Fatal(err)
	}
	mustSet(tb, key, jwk.KeyIDKey, k.kid)
	if k.jwkAlg != "" {
		mustSet(tb, key, jwk.AlgorithmKey, k.jwkAlg)
	}
	return key
}

func mustSet(tb testing.TB, key jwk.Key, name string, v any) {
	tb.Helper()
	if err := key.Set(name, v); err != nil {
		tb.Fatal(err)
	}
}

// jwksServer is an issuer's JWKS endpoint whose keys, health and hit count
// a test controls.
type jwksServer struct {
	*httptest.Server
	hits         atomic.Int64
	down         atomic.Bool
	mu           sync.Mutex
	body         []byte
	cacheControl string
	gate         chan struct{} // when set, requests wait until it is closed
}

func mustJWKSServer(tb testing.TB, keys ...jwk.Key) *jwksServer {
	tb.Helper()
	s := &jwksServer{}
	s.publish(tb, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if s.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		s.mu.Lock()
		body, cc, gate := s.body, s.cacheControl, s.gate
		s.mu.Unlock()
		if gate != nil {
			<-gate
		}
		w.Header().Set("Content-Type", "application/json")
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		_, _ = w.Write(body)
	}))
	tb.Cleanup(s.Close)
	return s
}

// publish replaces the served keys.
func (s *jwksServer) publish(tb testing.TB, keys ...jwk.Key) {
	tb.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		if err := set.AddKey(k); err != nil {
			tb.Fatal(err)
		}
	}
	body, err := json.Marshal(set)
	if err != nil {
		tb.Fatal(err)
	}
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
}

func (s *jwksServer) publishRaw(body string) {
	s.mu.Lock()
	s.body = []byte(body)
	s.mu.Unlock()
}

// hold makes requests wait until the returned func is called.
func (s *jwksServer) hold() (release func()) {
	gate := make(chan struct{})
	s.mu.Lock()
	s.gate = gate
	s.mu.Unlock()
	return sync.OnceFunc(func() { close(gate) })
}

func (s *jwksServer) setCacheControl(v string) {
	s.mu.Lock()
	s.cacheControl = v
	s.mu.Unlock()
}

func (s *jwksServer) url() string { return s.URL + "/api/auth/jwks" }

// testClock is a clock that moves only when told.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: t0} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// neverAfter keeps the background refresh asleep, so only what a test does
// causes JWKS fetches.
func neverAfter(time.Duration) <-chan time.Time { return nil }

// mustVerifier returns a Verifier for c, closed when the test ends. Unset
// clock and timer fields get a fixed clock at t0 and a sleeping loop.
func mustVerifier(tb testing.TB, c Config) *Verifier {
	tb.Helper()
	if c.Now == nil {
		c.Now = newTestClock().Now
	}
	if c.after == nil {
		c.after = neverAfter
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	v, err := New(context.Background(), c)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = v.Close() })
	return v
}

// claims is a token payload; tests set exactly the claims they mean to.
type claims map[string]any

// goodClaims are claims every test verifier accepts at t0.
func goodClaims() claims {
	return claims{
		"sub": "user-1",
		"iss": testIssuer,
		"aud": testAudience,
		"iat": t0.Add(-time.Minute).Unix(),
		"exp": t0.Add(14 * time.Minute).Unix(),
	}
}

func (c claims) with(kv ...any) claims {
	out := claims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func (c claims) without(names ...string) claims {
	out := c.with()
	for _, n := range names {
		delete(out, n)
	}
	return out
}

// mustSign signs c with k, naming k.kid in the header.
func mustSign(tb testing.TB, k signingKey, c claims) string {
	tb.Helper()
	return mustSignWith(tb, k.alg, k.priv, map[string]any{jws.KeyIDKey: k.kid}, c)
}

// mustSignWith signs c with any key under any alg and extra headers, as an
// attacker would.
func mustSignWith(tb testing.TB, alg jwa.SignatureAlgorithm, key any, headers map[string]any, c claims) string {
	tb.Helper()
	payload, err := json.Marshal(c)
	if err != nil {
		tb.Fatal(err)
	}
	h := jws.NewHeaders()
	for k, v := range headers {
		if err := h.Set(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	signed, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		tb.Fatal(err)
	}
	return string(signed)
}

// mustSignRaw signs payload, JSON written by hand (json.Marshal would
// make any string valid UTF-8), with HS256 and the test secret.
func mustSignRaw(tb testing.TB, payload string) string {
	tb.Helper()
	signed, err := jws.Sign([]byte(payload), jws.WithKey(jwa.HS256, testSecret))
	if err != nil {
		tb.Fatal(err)
	}
	return string(signed)
}

// mustUnsigned builds a token by hand with the given header, as jwx
// refuses to: base64url(header).base64url(payload).sig.
func mustUnsigned(tb testing.TB, header map[string]any, c claims, sig string) string {
	tb.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := json.Marshal(c)
	if err != nil {
		tb.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + "." + sig
}

// mustPEM is the PEM of pub's PKIX DER: the bytes an algorithm-confusion
// attacker uses as an HMAC key.
func mustPEM(tb testing.TB, pub crypto.PublicKey) (pemBytes, der []byte) {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), der
}

// wantRefusal checks that err is the *tasks.Error the contract says: its
// kind and the message a client sees (service's error table maps the kind
// to a Connect code and reason).
func wantRefusal(tb testing.TB, err error, kind tasks.ErrorKind, msg string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("accepted; want %v %q", kind, msg)
	}
	var e *tasks.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %v is %T, not *tasks.Error", err, err)
	}
	if e.Kind != kind || e.Message != msg {
		tb.Fatalf("got %v %q (cause %v); want %v %q", e.Kind, e.Message, err, kind, msg)
	}
}

// mustSignHeader signs with signer's algorithm under a header written by
// hand, so the header's alg can lie about how the token was signed.
func mustSignHeader(tb testing.TB, header map[string]any, c claims, signer jwa.SignatureAlgorithm, key any) string {
	tb.Helper()
	unsigned := mustUnsigned(tb, header, c, "")
	input := unsigned[:len(unsigned)-1] // drop the trailing "."
	s, err := jws.NewSigner(signer)
	if err != nil {
		tb.Fatal(err)
	}
	sig, err := s.Sign([]byte(input), key)
	if err != nil {
		tb.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}
