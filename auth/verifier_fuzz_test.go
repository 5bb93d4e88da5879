package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/example/tasks"
)

// The fuzz targets verify tokens with a verifier that holds fixed keys (an
// HMAC secret and a JWKS of an Ed25519, a P-256 and an RSA key) and a clock
// stopped at t0, so that a token in the corpus means the same on every
// run. What the verifier accepts is checked against an oracle written with
// the standard library alone: the signature must verify under one of those
// keys, and the claims must pass the rules.

// fuzzKeys are the fixed keys of the fuzz targets.
type fuzzKeys struct {
	ed, ec, rsa signingKey
	// intruder signs under ed's kid with a key of its own.
	intruder signingKey
}

// mustFuzzKeys derives the keys from fixed seeds (RSA from
// testdata/rsa-2048.pem, since RSA key generation is random).
func mustFuzzKeys(tb testing.TB) fuzzKeys {
	tb.Helper()
	ec, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	block, _ := pem.Decode(mustRead(tb, "testdata/rsa-2048.pem"))
	if block == nil {
		tb.Fatal("testdata/rsa-2048.pem holds no PEM block")
	}
	rs, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return fuzzKeys{
		ed:       signingKey{kid: "ed-1", alg: jwa.EdDSA, priv: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))},
		ec:       signingKey{kid: "ec-1", alg: jwa.ES256, priv: ec},
		rsa:      signingKey{kid: "rsa-1", alg: jwa.RS256, priv: rs.(*rsa.PrivateKey)},
		intruder: signingKey{kid: "ed-1", alg: jwa.EdDSA, priv: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize))},
	}
}

func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// mustFuzzVerifier returns a verifier of the fuzz keys, with issuer and
// audience checks, its clock at t0.
func mustFuzzVerifier(tb testing.TB, k fuzzKeys) *Verifier {
	tb.Helper()
	srv := mustJWKSServer(tb, mustPublicJWK(tb, k.ed), mustPublicJWK(tb, k.ec), mustPublicJWK(tb, k.rsa))
	return mustVerifier(tb, Config{JWKSURL: srv.url(), Secret: testSecret, Issuer: testIssuer, Audience: testAudience})
}

// fuzzTokens are tokens worth starting from: good ones under every key and
// the attacks of TestVerifyRules.
func fuzzTokens(tb testing.TB, k fuzzKeys) []string {
	tb.Helper()
	good := goodClaims()
	hs := func(alg jwa.SignatureAlgorithm, c claims) string { return mustSignWith(tb, alg, testSecret, nil, c) }
	pemBytes, der := mustPEM(tb, k.rsa.public())
	return []string{
		mustSign(tb, k.ed, good),
		mustSign(tb, k.ec, good),
		mustSign(tb, k.rsa, good),
		mustSign(tb, signingKey{kid: k.rsa.kid, alg: jwa.PS256, priv: k.rsa.priv}, good),
		hs(jwa.HS256, good),
		hs(jwa.HS512, good.with("aud", []string{"other", testAudience}, "nbf", t0.Unix())),
		hs(jwa.HS256, good.with("sub", strings.Repeat("é", tasks.MaxUserIDLen))),
		hs(jwa.HS256, good.with("exp", t0.Add(-time.Minute).Unix())),
		hs(jwa.HS256, good.with("exp", 0)),
		hs(jwa.HS256, good.without("sub")),
		mustSign(tb, k.intruder, good),
		mustSign(tb, k.intruder, good.with("exp", t0.Add(-time.Hour).Unix())),
		mustSignWith(tb, jwa.HS256, pemBytes, map[string]any{"kid": k.rsa.kid}, good),
		mustSignWith(tb, jwa.HS256, der, map[string]any{"kid": k.rsa.kid}, good),
		mustSignWith(tb, jwa.HS256, testSecret, map[string]any{"crit": []string{"exp"}}, good),
		mustSignHeader(tb, map[string]any{"kid": k.ed.kid, "alg": "ES256"}, good, jwa.EdDSA, k.ed.priv),
		mustUnsigned(tb, map[string]any{"alg": "none"}, good, ""),
		`{"payload":"e30","signatures":[]}`,
		"eyJhbGciOiJIUzI1NiJ9.e30",
		"",
	}
}

// FuzzAuthenticate feeds Authenticate an Authorization header sent copies
// times (0, 1 or 2). It must never panic; BearerToken must take a token
// only from one "Bearer" header, whole and without blanks; and
// checkVerified must hold for what Authenticate decides.
func FuzzAuthenticate(f *testing.F) {
	k := mustFuzzKeys(f)
	v := mustFuzzVerifier(f, k)
	for _, token := range fuzzTokens(f, k) {
		f.Add("Bearer "+token, uint8(1))
	}
	for _, h := range []string{"bearer  x.y.z", "BEARER\tx.y.z", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", "Bearer \xff.\x00.z"} {
		f.Add(h, uint8(1))
	}
	f.Add("Bearer "+mustSign(f, k.ed, goodClaims()), uint8(2))
	f.Add("Bearer "+strings.Repeat("a", MaxTokenBytes), uint8(1))
	f.Fuzz(func(t *testing.T, value string, copies uint8) {
		r, err := http.NewRequest(http.MethodPost, "http://api.example.com/tasks.v1.TaskService/GetTask", nil)
		if err != nil {
			t.Fatal(err)
		}
		n := int(copies % 3)
		for range n {
			r.Header.Add("Authorization", value)
		}
		token, ok := BearerToken(r.Header)
		if ok {
			const scheme = "Bearer "
			switch {
			case n != 1:
				t.Fatalf("token %q taken from %d headers", token, n)
			case len(value) < len(scheme) || !strings.EqualFold(value[:len(scheme)], scheme):
				t.Fatalf("token %q taken from %q, which is not Bearer", token, value)
			case token == "" || strings.ContainsAny(token, " \t") || !strings.HasSuffix(value, token) || len(token) > MaxTokenBytes:
				t.Fatalf("token %q taken from %q", token, value)
			case strings.Trim(value[len(scheme):len(value)-len(token)], " ") != "":
				t.Fatalf("token %q is not all of %q after the scheme", token, value)
			}
		}
		user, err := v.Authenticate(r)
		if !ok && err == nil {
			t.Fatalf("%q authenticated %+v without a bearer token", value, user)
		}
		checkVerified(t, k, token, user, err)
	})
}

// FuzzVerifySigned signs any header and claims (as JSON or not) with one
// of several keys, right and wrong, so the fuzzer reaches the claim rules
// and the choice of key, which a random signature never gets past. signer
// picks the key and algorithm (see fuzzSigners).
func FuzzVerifySigned(f *testing.F) {
	k := mustFuzzKeys(f)
	v := mustFuzzVerifier(f, k)
	good, err := json.Marshal(goodClaims())
	if err != nil {
		f.Fatal(err)
	}
	for i, s := range fuzzSigners(k) {
		header := fmt.Appendf(nil, `{"alg":%q,"kid":%q}`, s.alg, s.kid)
		f.Add(header, good, uint8(i))
	}
	f.Add([]byte(`{"alg":"HS256","alg":"none"}`), good, uint8(0))
	f.Add([]byte(`{"alg":"EdDSA","kid":"ed-1","jwk":{"kty":"OKP","crv":"Ed25519","x":"AA"}}`), good, uint8(8))
	f.Add([]byte(`{"alg":"HS256"}`), []byte(`{"sub":"u","exp":1e400,"iss":"https://app.example.com","aud":"https://api.example.com"}`), uint8(0))
	f.Add([]byte(`{"alg":"HS256"}`), []byte(`{"sub":"u","sub":"","exp":99999999999,"iss":"https://app.example.com","aud":"https://api.example.com"}`), uint8(0))
	f.Add([]byte(`{"alg":"HS256"}`), []byte("not json"), uint8(0))
	f.Fuzz(func(t *testing.T, header, payload []byte, signer uint8) {
		signers := fuzzSigners(k)
		s := signers[int(signer)%len(signers)]
		enc := base64.RawURLEncoding
		input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
		var sig []byte
		if s.alg != jwa.NoSignature {
			js, err := jws.NewSigner(s.alg)
			if err != nil {
				t.Fatal(err)
			}
			if sig, err = js.Sign([]byte(input), s.key); err != nil {
				t.Fatal(err)
			}
		}
		token := input + "." + enc.EncodeToString(sig)
		user, err := v.Verify(context.Background(), token)
		checkVerified(t, k, token, user, err)
	})
}

// fuzzSigner is a key and the algorithm FuzzVerifySigned signs with.
type fuzzSigner struct {
	alg jwa.SignatureAlgorithm
	kid string
	key any
}

// fuzzSigners are the keys the verifier trusts under each algorithm they
// may sign with, then keys it must refuse: another secret, an intruder's
// Ed25519 key, the public keys as HMAC secrets, and no signature.
func fuzzSigners(k fuzzKeys) []fuzzSigner {
	rsaDER, _ := x509.MarshalPKIXPublicKey(k.rsa.public())
	return []fuzzSigner{
		{jwa.HS256, "", testSecret},
		{jwa.HS384, "", testSecret},
		{jwa.HS512, "", testSecret},
		{jwa.EdDSA, k.ed.kid, k.ed.priv},
		{jwa.ES256, k.ec.kid, k.ec.priv},
		{jwa.RS256, k.rsa.kid, k.rsa.priv},
		{jwa.PS512, k.rsa.kid, k.rsa.priv},
		{jwa.HS256, "", []byte("another-secret-another-secret-32")},
		{jwa.EdDSA, k.intruder.kid, k.intruder.priv},
		{jwa.HS256, k.ed.kid, []byte(k.ed.public().(ed25519.PublicKey))},
		{jwa.HS256, k.rsa.kid, rsaDER},
		{jwa.NoSignature, "", nil},
	}
}

// checkVerified checks what the verifier decided about token: a refusal
// is Unauthenticated "invalid token", or "token expired" for a token that
// is genuine but expired; an acceptance is of a token the oracle finds
// signed by a trusted key, with claims that pass, for the user its sub
// names until its exp.
func checkVerified(t *testing.T, k fuzzKeys, token string, user tasks.User, err error) {
	t.Helper()
	if err != nil {
		var e *tasks.Error
		// A genuine token whose sub cannot be a user says why, after
		// "invalid token: ".
		badSub := strings.HasPrefix(e2msg(err), msgInvalid+": user id ")
		if !errors.As(err, &e) || e.Kind != tasks.KindUnauthenticated || (e.Message != msgInvalid && e.Message != msgExpired && !badSub) {
			t.Fatalf("token %q refused with %#v, want Unauthenticated %q or %q", token, err, msgInvalid, msgExpired)
		}
		if (e.Message == msgExpired || badSub) && !signedByTrustedKey(k, token) {
			t.Fatalf("token %q, not signed by a trusted key, refused as %q", token, e.Message)
		}
		return
	}
	if !signedByTrustedKey(k, token) {
		t.Fatalf("token %q accepted as %+v, but no trusted key signed it", token, user)
	}
	parts := strings.Split(token, ".")
	c, cerr := claimsOf(parts[1])
	if cerr != nil {
		t.Fatalf("token %q accepted as %+v, but its claims are not an object: %v", token, user, cerr)
	}
	if why := c.refusal(); why != "" {
		t.Fatalf("token %q accepted as %+v, but %s", token, user, why)
	}
	if sub, _ := c["sub"].(string); user.ID != sub {
		t.Fatalf("token %q accepted as %q, but its sub is %q", token, user.ID, sub)
	}
	exp, _ := numericDate(c["exp"])
	if want := time.Unix(exp, 0).Add(DefaultClockSkew); user.Expires.Unix() != want.Unix() {
		t.Fatalf("token %q accepted until %v, want %v", token, user.Expires, want)
	}
}

// signedByTrustedKey reports whether the signature of the compact token
// verifies, under any algorithm, with a key the fuzz verifier trusts.
func signedByTrustedKey(k fuzzKeys, token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	input := []byte(parts[0] + "." + parts[1])
	sig, err := lenientBase64(parts[2])
	if err != nil {
		return false
	}
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		mac := hmac.New(h.New, testSecret)
		mac.Write(input)
		if hmac.Equal(mac.Sum(nil), sig) {
			return true
		}
		digest := h.New()
		digest.Write(input)
		sum := digest.Sum(nil)
		pub := k.rsa.public().(*rsa.PublicKey)
		if rsa.VerifyPKCS1v15(pub, h, sum, sig) == nil || rsa.VerifyPSS(pub, h, sum, sig, nil) == nil {
			return true
		}
		if h == crypto.SHA256 && len(sig) == 64 {
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			if ecdsa.Verify(k.ec.public().(*ecdsa.PublicKey), sum, r, s) {
				return true
			}
		}
	}
	return ed25519.Verify(k.ed.public().(ed25519.PublicKey), input, sig)
}

// lenientBase64 decodes s in any base64 alphabet, padded or not: the
// oracle must not call a signature missing because jwx reads more
// spellings than the standard one.
func lenientBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

// oracleClaims are a token's claims as encoding/json reads them.
type oracleClaims map[string]any

func claimsOf(segment string) (oracleClaims, error) {
	raw, err := lenientBase64(segment)
	if err != nil {
		return nil, err
	}
	var c oracleClaims
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&c); err != nil {
		return nil, err
	}
	return c, nil
}

// refusal returns why the verifier must refuse a token with these claims
// at t0, or "".
func (c oracleClaims) refusal() string {
	now, skew := t0.Unix(), int64(DefaultClockSkew/time.Second)
	exp, ok := numericDate(c["exp"])
	switch {
	case !ok || exp <= 0:
		return "its exp is missing, zero or not a date"
	case exp+skew < now:
		return "it expired"
	}
	for _, name := range []string{"nbf", "iat"} {
		if v, present := c[name]; present {
			if at, ok := numericDate(v); !ok || at-skew > now {
				return name + " is not a date, or in the future"
			}
		}
	}
	if sub, ok := c["sub"].(string); !ok || sub == "" || len([]rune(sub)) > tasks.MaxUserIDLen {
		return "its sub is not a user id"
	}
	if iss, _ := c["iss"].(string); iss != testIssuer {
		return "its iss is not the issuer"
	}
	switch aud := c["aud"].(type) {
	case string:
		if aud == testAudience {
			return ""
		}
	case []any:
		for _, a := range aud {
			if a == testAudience {
				return ""
			}
		}
	}
	return "its aud does not hold the audience"
}

// numericDate returns a date claim as whole seconds since the epoch. Like
// jwx (unless set pedantic, which is process-wide), it takes a string as
// well as a number: one of digits, or an RFC 3339 time. Either way the
// issuer wrote it, so the leniency lets no one else in.
func numericDate(v any) (int64, bool) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.Unix(), true
		}
		s = v
	default:
		return 0, false
	}
	if strings.Trim(s, "0123456789.") != "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f > 1<<62 {
		return 0, false
	}
	return int64(f), true
}

// e2msg is the message of a *tasks.Error, or "".
func e2msg(err error) string {
	var e *tasks.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
