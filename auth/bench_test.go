package auth

import (
	"context"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// BenchmarkVerify measures one verification with the JWKS already fetched:
// "full" with the token cache off (signature and every claim checked),
// "cached" with the same token presented again, as a client does on each
// call until its token expires.
func BenchmarkVerify(b *testing.B) {
	ed, ec, rs := mustKeys(b)
	srv := mustJWKSServer(b, mustPublicJWK(b, ed), mustPublicJWK(b, ec), mustPublicJWK(b, rs))
	claims := goodClaims()
	tokens := []struct {
		name  string
		token string
	}{
		{"HS256", mustSignWith(b, jwa.HS256, testSecret, nil, claims)},
		{"EdDSA", mustSign(b, ed, claims)},
		{"ES256", mustSign(b, ec, claims)},
		{"RS256", mustSign(b, rs, claims)},
	}
	for _, mode := range []struct {
		name      string
		cacheSize int
	}{{"full", -1}, {"cached", 0}} {
		v := mustVerifier(b, Config{JWKSURL: srv.url(), Secret: testSecret, Issuer: testIssuer, Audience: testAudience, TokenCacheSize: mode.cacheSize})
		for _, tt := range tokens {
			ctx := context.Background()
			if _, err := v.Verify(ctx, tt.token); err != nil {
				b.Fatal(err)
			}
			b.Run(tt.name+"/"+mode.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Verify(ctx, tt.token); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(tt.name+"/"+mode.name+"/parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := v.Verify(ctx, tt.token); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
