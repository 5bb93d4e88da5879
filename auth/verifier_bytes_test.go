package auth

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/example/tasks"
)

// TestVerifyExactBytes checks that a genuine token spelled another way is
// refused. jwx verifies the signature over its own re-encoding of what it
// decoded (base64 that ignores stray low bits, a header read only up to the
// end of its first JSON value), so without a check of its own the verifier
// would take many strings for one token, each a fresh entry in the token
// cache. FuzzAuthenticate found the first of these.
func TestVerifyExactBytes(t *testing.T) {
	t.Parallel()
	ed, _, _ := mustKeys(t)
	srv := mustJWKSServer(t, mustPublicJWK(t, ed))
	v := mustVerifier(t, Config{JWKSURL: srv.url(), Secret: testSecret})
	for alg, token := range map[string]string{
		"HS256": mustSignWith(t, jwa.HS256, testSecret, nil, goodClaims().without("iss", "aud")),
		"EdDSA": mustSign(t, ed, goodClaims().without("iss", "aud")),
	} {
		mustAccept(t, v, token, "user-1") // and cached: the spellings below are not
		parts := strings.Split(token, ".")
		header, err := base64.RawURLEncoding.DecodeString(parts[0])
		if err != nil {
			t.Fatal(err)
		}
		enc := base64.RawURLEncoding.EncodeToString
		respelled := map[string]string{
			"a byte after the header":   enc(append(header, 'x')) + "." + parts[1] + "." + parts[2],
			"a space before the header": enc(append([]byte(" "), header...)) + "." + parts[1] + "." + parts[2],
			"a space after the header":  enc(append(header, ' ')) + "." + parts[1] + "." + parts[2],
		}
		for i, name := range []string{"header", "payload", "signature"} {
			if seg, ok := withStrayBits(parts[i]); ok {
				p := append([]string(nil), parts...)
				p[i] = seg
				respelled["stray low bits in the "+name] = strings.Join(p, ".")
			}
		}
		if len(respelled) < 5 {
			t.Fatalf("only %d spellings of %q", len(respelled), token)
		}
		for name, spelled := range respelled {
			t.Run(alg+"/"+name, func(t *testing.T) {
				t.Parallel()
				_, err := v.Verify(context.Background(), spelled)
				wantRefusal(t, err, tasks.KindUnauthenticated, msgInvalid)
			})
		}
	}
}

// withStrayBits returns seg with the unused low bits of its last character
// set, which a lenient base64 decoder ignores, or false when seg encodes a
// multiple of 3 bytes and has none.
func withStrayBits(seg string) (string, bool) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var spare int
	switch len(seg) % 4 {
	case 2:
		spare = 0b1111
	case 3:
		spare = 0b11
	default:
		return "", false
	}
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[last|spare]), true
}
