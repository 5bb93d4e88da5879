package auth

import (
	"context"
	"crypto/elliptic"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/example/tasks"
)

// TestVerifyRules runs every claim rule and attack against a verifier with
// both key sources, an issuer and an audience.
func TestVerifyRules(t *testing.T) {
	t.Parallel()
	ed, ec, rs := mustKeys(t)
	// The same RSA key, published a second time with its alg pinned to
	// RS256, so PS256 under that kid must fail.
	pinned := signingKey{kid: "rsa-pinned", alg: jwa.PS256, priv: rs.priv, jwkAlg: "RS256"}
	// An oct key in the JWKS must never verify anything: the JWKS is public.
	octKey, err := jwk.FromRaw([]byte("public-for-all-to-see-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, octKey, jwk.KeyIDKey, "oct-1")
	weakRSA := signingKey{kid: "rsa-1024", alg: jwa.RS256, priv: mustRSA(t, 1024)}
	srv := mustJWKSServer(t, mustPublicJWK(t, ed), mustPublicJWK(t, ec), mustPublicJWK(t, rs),
		mustPublicJWK(t, pinned), octKey, mustPublicJWK(t, weakRSA))
	v := mustVerifier(t, Config{JWKSURL: srv.url(), Secret: testSecret, Issuer: testIssuer, Audience: testAudience})
	// A verifier without iss and aud, for payloads written by hand.
	bare := mustVerifier(t, Config{Secret: testSecret})

	hs := func(alg jwa.SignatureAlgorithm) signingKey { return signingKey{alg: alg} }
	sign := func(k signingKey, c claims) string {
		if k.priv == nil {
			return mustSignWith(t, k.alg, testSecret, nil, c)
		}
		return mustSign(t, k, c)
	}
	rsaPEM, rsaDER := mustPEM(t, rs.public())
	ecPEM, _ := mustPEM(t, ec.public())
	intruder := signingKey{kid: ed.kid, alg: jwa.EdDSA, priv: mustEd25519(t)}
	p384 := signingKey{kid: ec.kid, alg: jwa.ES384, priv: mustECDSA(t, elliptic.P384())}
	good := goodClaims()
	exp := strconv.FormatInt(t0.Add(time.Minute).Unix(), 10)
	noneHeader := map[string]any{"alg": "none", "typ": "JWT"}

	tests := []struct {
		name    string
		token   string
		wantSub string // "" means refused
		wantMsg string // when refused; "invalid token" if empty
		bare    bool   // for the verifier without iss and aud
	}{
		{name: "EdDSA", token: sign(ed, good), wantSub: "user-1"},
		{name: "ES256", token: sign(ec, good), wantSub: "user-1"},
		{name: "RS256", token: sign(rs, good), wantSub: "user-1"},
		{name: "PS256 with the RSA key", token: sign(signingKey{kid: rs.kid, alg: jwa.PS256, priv: rs.priv}, good), wantSub: "user-1"},
		{name: "HS256", token: sign(hs(jwa.HS256), good), wantSub: "user-1"},
		{name: "HS384", token: sign(hs(jwa.HS384), good), wantSub: "user-1"},
		{name: "HS512", token: sign(hs(jwa.HS512), good), wantSub: "user-1"},
		{name: "aud as a list holding the audience", token: sign(ed, good.with("aud", []string{"other", testAudience})), wantSub: "user-1"},
		{name: "aud as a one-element list", token: sign(ed, good.with("aud", []string{testAudience})), wantSub: "user-1"},
		{name: "exp just past, within skew", token: sign(ed, good.with("exp", t0.Add(-10*time.Second).Unix())), wantSub: "user-1"},
		{name: "nbf just ahead, within skew", token: sign(ed, good.with("nbf", t0.Add(10*time.Second).Unix())), wantSub: "user-1"},
		{name: "iat just ahead, within skew", token: sign(ed, good.with("iat", t0.Add(10*time.Second).Unix())), wantSub: "user-1"},
		{name: "no iat", token: sign(ed, good.without("iat")), wantSub: "user-1"},
		{name: "sub of 255 characters", token: sign(ed, good.with("sub", strings.Repeat("a", 255))), wantSub: strings.Repeat("a", 255)},
		{name: "sub of 255 two-byte characters", token: sign(ed, good.with("sub", strings.Repeat("é", 255))), wantSub: strings.Repeat("é", 255)},

		{name: "expired", token: sign(ed, good.with("exp", t0.Add(-time.Minute).Unix())), wantMsg: msgExpired},
		{name: "expired HS256", token: sign(hs(jwa.HS256), good.with("exp", t0.Add(-time.Hour).Unix())), wantMsg: msgExpired},
		{name: "expired and forged says invalid, not expired", token: sign(intruder, good.with("exp", t0.Add(-time.Hour).Unix()))},
		{name: "no exp", token: sign(ed, good.without("exp"))},
		{name: "exp zero", token: sign(ed, good.with("exp", 0))},
		{name: "exp not a number", token: sign(ed, good.with("exp", "tomorrow"))},
		{name: "nbf in the future", token: sign(ed, good.with("nbf", t0.Add(time.Minute).Unix()))},
		{name: "iat in the future", token: sign(ed, good.with("iat", t0.Add(time.Minute).Unix()))},
		{name: "wrong iss", token: sign(ed, good.with("iss", "https://evil.example.com"))},
		{name: "no iss", token: sign(ed, good.without("iss"))},
		{name: "wrong aud", token: sign(ed, good.with("aud", "https://other.example.com"))},
		{name: "aud list without the audience", token: sign(ed, good.with("aud", []string{"a", "b"}))},
		{name: "no aud", token: sign(ed, good.without("aud"))},
		{name: "no sub", token: sign(ed, good.without("sub"))},
		{name: "empty sub", token: sign(ed, good.with("sub", ""))},
		{name: "sub of 256 characters", token: sign(ed, good.with("sub", strings.Repeat("a", 256))), wantMsg: "invalid token: user id must be at most 255 characters"},
		{name: "sub with a NUL", token: sign(ed, good.with("sub", "a\x00b")), wantMsg: "invalid token: user id must not contain control characters"},
		{name: "sub with a newline", token: sign(ed, good.with("sub", "a\nb")), wantMsg: "invalid token: user id must not contain control characters"},
		{name: "sub with U+FFFD", token: sign(ed, good.with("sub", "a\uFFFDb")), wantMsg: "invalid token: user id must be valid UTF-8"},
		// Decoded, both would be "a\uFFFDb": one user for two subjects.
		{name: "sub with a byte that is not UTF-8", token: mustSignRaw(t, `{"sub":"a`+"\xff"+`b","exp":`+exp+`}`), wantMsg: "invalid token: user id must be valid UTF-8", bare: true},
		{name: "sub with another byte that is not UTF-8", token: mustSignRaw(t, `{"sub":"a`+"\xfe"+`b","exp":`+exp+`}`), wantMsg: "invalid token: user id must be valid UTF-8", bare: true},
		{name: "sub with a lone surrogate", token: mustSignRaw(t, `{"sub":"a\ud800b","exp":`+exp+`}`), wantMsg: "invalid token: user id must be valid UTF-8", bare: true},
		{name: "sub not a string", token: sign(ed, good.with("sub", 42))},

		{name: "alg none, empty signature", token: mustUnsigned(t, noneHeader, good, "")},
		{name: "alg none with a signature", token: mustUnsigned(t, noneHeader, good, "c2lnbmF0dXJl")},
		{name: "alg None", token: mustUnsigned(t, map[string]any{"alg": "None"}, good, "c2lnbmF0dXJl")},
		{name: "no alg", token: mustUnsigned(t, map[string]any{"kid": ed.kid}, good, "c2lnbmF0dXJl")},
		{name: "alg confusion: HS256 keyed with the RSA public PEM", token: mustSignWith(t, jwa.HS256, rsaPEM, map[string]any{"kid": rs.kid}, good)},
		{name: "alg confusion: HS256 keyed with the RSA public DER", token: mustSignWith(t, jwa.HS256, rsaDER, map[string]any{"kid": rs.kid}, good)},
		{name: "alg confusion: HS256 keyed with the EC public PEM", token: mustSignWith(t, jwa.HS256, ecPEM, map[string]any{"kid": ec.kid}, good)},
		{name: "HS256 keyed with the JWKS oct key", token: mustSignWith(t, jwa.HS256, []byte("public-for-all-to-see-0123456789"), map[string]any{"kid": "oct-1"}, good)},
		{name: "EC key under an RSA alg", token: mustSignHeader(t, map[string]any{"kid": ec.kid, "alg": "RS256"}, good, jwa.ES256, ec.priv)},
		{name: "Ed25519 key under ES256", token: mustSignHeader(t, map[string]any{"kid": ed.kid, "alg": "ES256"}, good, jwa.EdDSA, ed.priv)},
		{name: "control: hand-built header verifies", token: mustSignHeader(t, map[string]any{"kid": ed.kid, "alg": "EdDSA"}, good, jwa.EdDSA, ed.priv), wantSub: "user-1"},
		{name: "P-384 signature under a P-256 kid", token: sign(p384, good)},
		{name: "PS256 under a key pinned to RS256", token: sign(pinned, good)},
		{name: "RSA key under 2048 bits", token: sign(weakRSA, good)},
		{name: "signed by another key under a known kid", token: sign(intruder, good)},
		{name: "payload altered after signing", token: alterPayload(t, sign(ed, good), good.with("sub", "admin"))},
		{name: "HS256 with the wrong secret", token: mustSignWith(t, jwa.HS256, []byte("another-secret-another-secret-32"), nil, good)},
		{name: "crit header", token: mustSignWith(t, jwa.HS256, testSecret, map[string]any{"crit": []string{"exp"}}, good)},
		{name: "JWS JSON serialization", token: `{"payload":"e30","signatures":[]}`},
		{name: "two segments", token: "eyJhbGciOiJIUzI1NiJ9.e30"},
		{name: "empty", token: ""},
		{name: "garbage", token: "not a token"},
		{name: "over 8 KiB", token: sign(ed, good.with("pad", strings.Repeat("x", MaxTokenBytes)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			verifier := v
			if tt.bare {
				verifier = bare
			}
			user, err := verifier.Verify(context.Background(), tt.token)
			if tt.wantSub != "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if user.ID != tt.wantSub {
					t.Fatalf("sub %q, want %q", user.ID, tt.wantSub)
				}
				return
			}
			msg := tt.wantMsg
			if msg == "" {
				msg = msgInvalid
			}
			wantRefusal(t, err, tasks.KindUnauthenticated, msg)
		})
	}
}

// TestVerifyKeySourceMissing checks that a token is refused when the key
// source its alg needs is not configured.
func TestVerifyKeySourceMissing(t *testing.T) {
	t.Parallel()
	ed, _, rs := mustKeys(t)
	srv := mustJWKSServer(t, mustPublicJWK(t, ed), mustPublicJWK(t, rs))
	jwksOnly := mustVerifier(t, Config{JWKSURL: srv.url()})
	secretOnly := mustVerifier(t, Config{Secret: testSecret})
	rsaPEM, _ := mustPEM(t, rs.public())

	tests := []struct {
		name  string
		v     *Verifier
		token string
	}{
		{"HS256 without a secret", jwksOnly, mustSignWith(t, jwa.HS256, testSecret, nil, goodClaims())},
		{"alg confusion without a secret", jwksOnly, mustSignWith(t, jwa.HS256, rsaPEM, map[string]any{"kid": rs.kid}, goodClaims())},
		{"EdDSA without a JWKS", secretOnly, mustSign(t, ed, goodClaims())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.v.Verify(context.Background(), tt.token)
			wantRefusal(t, err, tasks.KindUnauthenticated, msgInvalid)
		})
	}
	// Without iss and aud configured, tokens without them are fine.
	if _, err := secretOnly.Verify(context.Background(), mustSignWith(t, jwa.HS256, testSecret, nil, goodClaims().without("iss", "aud"))); err != nil {
		t.Fatalf("refused: %v", err)
	}
}

// TestVerifyCachedTokenExpires checks that a token verified (and cached)
// while valid is refused once its exp plus skew has passed.
func TestVerifyCachedTokenExpires(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	v := mustVerifier(t, Config{Secret: testSecret, Now: clock.Now})
	token := mustSignWith(t, jwa.HS256, testSecret, nil, goodClaims().with("exp", t0.Add(time.Minute).Unix()))
	for range 2 { // the second call is served from the cache
		if _, err := v.Verify(context.Background(), token); err != nil {
			t.Fatalf("refused: %v", err)
		}
	}
	clock.advance(time.Minute + DefaultClockSkew - time.Nanosecond)
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Fatalf("refused within skew: %v", err)
	}
	clock.advance(time.Nanosecond)
	_, err := v.Verify(context.Background(), token)
	wantRefusal(t, err, tasks.KindUnauthenticated, msgExpired)
}

// alterPayload swaps the payload of a signed token, keeping its signature.
func alterPayload(tb testing.TB, token string, c claims) string {
	tb.Helper()
	forged := mustUnsigned(tb, map[string]any{}, c, "")
	parts, fparts := strings.Split(token, "."), strings.Split(forged, ".")
	return parts[0] + "." + fparts[1] + "." + parts[2]
}
