package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/example/tasks"
)

// Verifier checks bearer tokens. It is safe for concurrent use; call Close
// when done with it to stop the background JWKS refresh.
type Verifier struct {
	secret []byte      // nil: HMAC tokens are refused
	jwks   *jwksSource // nil: asymmetric tokens are refused
	cache  *tokenCache // nil: every token is verified in full
	now    func() time.Time
	skew   time.Duration
	log    *slog.Logger

	parseOpts []jwt.ParseOption // all but the per-call key provider
}

// New returns a Verifier for c. With a JWKS URL it fetches the keys before
// returning, waiting at most until ctx ends; if that fails New still
// succeeds, logs the failure and keeps retrying in the background, and
// asymmetric tokens are answered Unavailable until keys arrive. ctx bounds
// only that first fetch; Close ends the background work.
func New(ctx context.Context, c Config) (*Verifier, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &Verifier{now: c.Now, skew: c.ClockSkew, log: c.Logger}
	if len(c.Secret) > 0 {
		v.secret = c.Secret
	}
	if c.TokenCacheSize > 0 {
		v.cache = newTokenCache(c.TokenCacheSize)
	}
	v.parseOpts = []jwt.ParseOption{
		jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(c.Now)),
		jwt.WithAcceptableSkew(c.ClockSkew),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithRequiredClaim(jwt.SubjectKey),
	}
	if c.Issuer != "" {
		v.parseOpts = append(v.parseOpts, jwt.WithIssuer(c.Issuer))
	}
	if c.Audience != "" {
		v.parseOpts = append(v.parseOpts, jwt.WithAudience(c.Audience))
	}
	if c.JWKSURL != "" {
		v.jwks = newJWKSSource(ctx, c, v.forgetTokens)
	}
	return v, nil
}

// Close stops the background JWKS refresh and waits for it to end.
func (v *Verifier) Close() error {
	if v.jwks != nil {
		v.jwks.close()
	}
	return nil
}

// Verify checks token and returns its caller, with when the token stops
// being accepted (its exp plus the clock skew). Errors are *tasks.Error:
// KindUnauthenticated with the message "token expired" or "invalid token"
// (the cause, for logs, in Err), or KindUnavailable while the JWKS has never
// been fetched.
func (v *Verifier) Verify(ctx context.Context, token string) (tasks.User, error) {
	if len(token) > MaxTokenBytes {
		return tasks.User{}, errInvalid("token longer than 8 KiB")
	}
	if !isCompactJWS(token) {
		return tasks.User{}, errInvalid("not a compact JWS")
	}
	now := v.now()
	if sub, expires, ok := v.cache.get(token, now); ok {
		return tasks.User{ID: sub, Expires: expires}, nil
	}
	if !isCanonicalJWS(token) {
		return tasks.User{}, errInvalid("not the one spelling of its header, payload and signature")
	}

	opts := append(v.parseOpts[:len(v.parseOpts):len(v.parseOpts)],
		jwt.WithKeyProvider(jws.KeyProviderFunc(func(_ context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
			return v.keysFor(ctx, sink, sig.ProtectedHeaders())
		})))
	tok, err := jwt.ParseString(token, opts...)
	if err != nil {
		return tasks.User{}, classify(err)
	}

	exp := tok.Expiration()
	if exp.Unix() <= 0 {
		// jwx skips exp checks on a zero exp; "exp": 0 is no expiry.
		return tasks.User{}, errInvalid("exp is zero")
	}
	sub := tok.Subject()
	if err := checkSubject(sub); err != nil {
		return tasks.User{}, err
	}
	expires := exp.Add(v.skew) // the first instant the token is refused
	v.cache.put(token, sub, expires, now)
	return tasks.User{ID: sub, Expires: expires}, nil
}

// checkSubject refuses a sub that cannot be a user, which becomes the
// owner of every task the user makes (tasks.CheckUserID). The token is
// genuine by now, so the message says what is wrong with it: that helps
// whoever runs the issuer and tells a forger nothing.
func checkSubject(sub string) error {
	if sub == "" {
		return errInvalid("empty sub")
	}
	var e *tasks.Error
	if err := tasks.CheckUserID(sub); errors.As(err, &e) {
		return tasks.WrapError(tasks.KindUnauthenticated, err, msgInvalid+": "+e.Message)
	}
	return nil
}

// keysFor puts into sink the keys that may have signed a token with these
// headers. Which keys is decided by the header's alg alone: HMAC algs get
// only the configured secret, asymmetric algs only JWKS keys of the
// matching type, and anything else (notably "none") nothing at all.
func (v *Verifier) keysFor(ctx context.Context, sink jws.KeySink, h jws.Headers) error {
	if len(h.Critical()) > 0 {
		return errors.New("crit header: no extensions are understood")
	}
	alg := h.Algorithm()
	switch alg {
	case jwa.HS256, jwa.HS384, jwa.HS512:
		if v.secret == nil {
			return errors.New("HMAC token but no secret is configured")
		}
		sink.Key(alg, v.secret)
		return nil
	case jwa.EdDSA, jwa.ES256, jwa.ES384, jwa.ES512,
		jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512:
		if v.jwks == nil {
			return errors.New("asymmetric token but no JWKS is configured")
		}
		ks := v.jwks.current(ctx, h.KeyID())
		if ks == nil {
			return errUnavailable
		}
		n := 0
		ks.matching(alg, h.KeyID(), func(raw any) { sink.Key(alg, raw); n++ })
		if n == 0 {
			return errors.New("no JWKS key for this kid and alg")
		}
		return nil
	default:
		return errors.New("algorithm not accepted")
	}
}

// classify turns a jwx error into what the client may see.
func classify(err error) error {
	var se *tasks.Error
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, jwt.ErrTokenExpired()):
		return errExpired
	default:
		return errInvalidWrap(err)
	}
}

// forgetTokens drops every cached verification, so that a key the issuer
// withdrew stops being accepted at once rather than when its tokens expire.
func (v *Verifier) forgetTokens() { v.cache.clear() }

// isCanonicalJWS reports whether a compact JWS is the one spelling of what
// it decodes to: each segment base64url without stray low bits, and the
// header a JSON object with nothing around it. jwx checks the signature over
// its own re-encoding of what it decoded, reading the header only up to the
// end of its first JSON value, so without this every other spelling of a
// genuine token would pass as well: many strings for one token, each its own
// entry in the token cache. Only canonical tokens reach the cache, so it
// need not be checked for a token found there.
func isCanonicalJWS(token string) bool {
	header, rest, _ := strings.Cut(token, ".")
	payload, signature, _ := strings.Cut(rest, ".")
	h, err := strictBase64.DecodeString(header)
	if err != nil || len(h) < 2 || h[0] != '{' || h[len(h)-1] != '}' || !json.Valid(h) {
		return false
	}
	for _, seg := range []string{payload, signature} {
		if _, err := strictBase64.DecodeString(seg); err != nil {
			return false
		}
	}
	return true
}

// strictBase64 refuses stray low bits in the last character. (It still
// skips CR and LF, which isCompactJWS has refused already.)
var strictBase64 = base64.RawURLEncoding.Strict()

// isCompactJWS reports whether token has the shape header.payload.signature
// in base64url, so anything else (JSON serialization, JWE, junk) is refused
// before jwx decodes it.
func isCompactJWS(token string) bool {
	dots := 0
	prev := byte('.')
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case c == '.':
			if prev == '.' {
				return false
			}
			dots++
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
		prev = c
	}
	return dots == 2 && prev != '.'
}
