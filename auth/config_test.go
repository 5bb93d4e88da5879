package auth

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestNewRejectsConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		c       Config
		wantErr string
	}{
		{"no key source", Config{Issuer: testIssuer}, "no key source"},
		{"short secret", Config{Secret: []byte("too-short")}, "at least 32"},
		{"JWKS URL without scheme", Config{JWKSURL: "issuer.example.com/jwks"}, "not an http(s) URL"},
		{"JWKS URL of another scheme", Config{JWKSURL: "file:///etc/jwks.json"}, "not an http(s) URL"},
		{"negative skew", Config{Secret: testSecret, ClockSkew: -time.Second}, "negative clock skew"},
		{"negative interval", Config{Secret: testSecret, MinRefreshInterval: -time.Second}, "negative minimum refresh interval"},
	}
	for _, tt := range tests {
		_, err := New(context.Background(), tt.c)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.wantErr)
		}
	}
}

// TestNewCopiesSecret checks that the caller reusing its slice cannot
// change the key.
func TestNewCopiesSecret(t *testing.T) {
	t.Parallel()
	secret := append([]byte(nil), testSecret...)
	v := mustVerifier(t, Config{Secret: secret})
	token := mustSignWith(t, "HS256", testSecret, nil, goodClaims())
	clear(secret)
	mustAccept(t, v, token, "user-1")
}

// TestVerifyAfterClose checks that a closed Verifier refuses cleanly
// instead of starting fetches nobody waits for.
func TestVerifyAfterClose(t *testing.T) {
	t.Parallel()
	ed, _, _ := mustKeys(t)
	srv := mustJWKSServer(t, mustPublicJWK(t, ed))
	v := mustVerifier(t, Config{JWKSURL: srv.url()})
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	token := mustSign(t, signingKey{kid: "new", alg: ed.alg, priv: ed.priv}, goodClaims())
	if _, err := v.Verify(context.Background(), token); err == nil {
		t.Fatal("accepted an unknown kid after Close")
	}
	wantHits(t, srv, 1)
}
