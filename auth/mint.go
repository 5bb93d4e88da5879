package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// TokenRequest says what MintHS256 puts in a token.
type TokenRequest struct {
	Subject  string        // sub: the user (see tasks.CheckUserID)
	TTL      time.Duration // exp is Now + TTL; must be positive
	Issuer   string        // iss, when set (use AUTH_ISSUER so the server accepts it)
	Audience string        // aud, when set (use AUTH_AUDIENCE)
	Now      time.Time     // iat; zero means time.Now()
}

// MintHS256 signs an HS256 token that a Verifier configured with the same
// secret (and issuer and audience) accepts. It exists for the server's
// token command, so that buf curl and local testing need no identity
// provider; production tokens come from the issuer's asymmetric keys.
func MintHS256(secret []byte, r TokenRequest) (string, error) {
	if len(secret) < MinSecretBytes {
		return "", fmt.Errorf("auth: HMAC secret is %d bytes; use at least %d", len(secret), MinSecretBytes)
	}
	if err := checkSubject(r.Subject); err != nil {
		return "", fmt.Errorf("auth: subject: %w", err)
	}
	if r.TTL <= 0 {
		return "", errors.New("auth: token lifetime must be positive")
	}
	now := r.Now
	if now.IsZero() {
		now = time.Now()
	}
	b := jwt.NewBuilder().Subject(r.Subject).IssuedAt(now).Expiration(now.Add(r.TTL))
	if r.Issuer != "" {
		b = b.Issuer(r.Issuer)
	}
	if r.Audience != "" {
		b = b.Audience([]string{r.Audience})
	}
	tok, err := b.Build()
	if err != nil {
		return "", fmt.Errorf("auth: building token: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256, secret))
	if err != nil {
		return "", fmt.Errorf("auth: signing token: %w", err)
	}
	return string(signed), nil
}
