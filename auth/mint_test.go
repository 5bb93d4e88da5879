package auth

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestMintHS256(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	v := mustVerifier(t, Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience, Now: clock.Now})
	token, err := MintHS256(testSecret, TokenRequest{Subject: "cli-user", TTL: time.Hour, Issuer: testIssuer, Audience: testAudience, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	mustAccept(t, v, token, "cli-user")
	clock.advance(time.Hour + DefaultClockSkew)
	_, err = v.Verify(context.Background(), token)
	if err == nil || err.Error() != msgExpired {
		t.Fatalf("after its TTL: %v, want %q", err, msgExpired)
	}

	bad := []struct {
		name   string
		secret []byte
		req    TokenRequest
	}{
		{"short secret", testSecret[:31], TokenRequest{Subject: "u", TTL: time.Hour}},
		{"no subject", testSecret, TokenRequest{TTL: time.Hour}},
		{"subject of 256 characters", testSecret, TokenRequest{Subject: strings.Repeat("u", 256), TTL: time.Hour}},
		{"no TTL", testSecret, TokenRequest{Subject: "u"}},
		{"negative TTL", testSecret, TokenRequest{Subject: "u", TTL: -time.Hour}},
	}
	for _, tt := range bad {
		if _, err := MintHS256(tt.secret, tt.req); err == nil {
			t.Errorf("%s: minted", tt.name)
		}
	}
}
