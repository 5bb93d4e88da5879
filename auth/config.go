package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultClockSkew          = 30 * time.Second
	DefaultRefreshInterval    = 15 * time.Minute
	DefaultMinRefreshInterval = 10 * time.Second
	DefaultFetchTimeout       = 10 * time.Second
	DefaultTokenCacheSize     = 16384
)

// MinSecretBytes is the shortest HMAC secret New accepts: an HS256 key
// shorter than its 32-byte output is guessable offline from one token.
const MinSecretBytes = 32

// MaxTokenBytes bounds a bearer token. Anything longer is refused before it
// is decoded, so a huge header cannot buy CPU time in base64 or JSON.
const MaxTokenBytes = 8 << 10

// Config says where keys come from and which claims a token must carry.
// At least one of JWKSURL and Secret must be set.
type Config struct {
	// JWKSURL (AUTH_JWKS_URL) is where the issuer publishes its public
	// keys, e.g. Better-Auth's https://app.example.com/api/auth/jwks.
	JWKSURL string
	// Secret (AUTH_JWT_SECRET) verifies HS256/384/512 tokens; at least
	// MinSecretBytes long. Empty means HMAC tokens are refused.
	Secret []byte
	// Issuer (AUTH_ISSUER) and Audience (AUTH_AUDIENCE) are checked
	// against iss and aud when set.
	Issuer   string
	Audience string

	// ClockSkew is how far exp, nbf and iat may be off; 0 means
	// DefaultClockSkew.
	ClockSkew time.Duration
	// RefreshInterval is the longest the JWKS goes unrefreshed; a shorter
	// Cache-Control max-age from the issuer wins. 0 means
	// DefaultRefreshInterval.
	RefreshInterval time.Duration
	// MinRefreshInterval is the least time between two fetches caused by
	// tokens naming an unknown kid, so a flood of made-up kids costs the
	// issuer at most one request per interval. 0 means
	// DefaultMinRefreshInterval.
	MinRefreshInterval time.Duration
	// FetchTimeout bounds one JWKS request; 0 means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// HTTPClient fetches the JWKS; nil means a client with no other
	// settings than FetchTimeout.
	HTTPClient *http.Client
	// TokenCacheSize is how many verified tokens are remembered so a
	// client's next call skips the signature check; 0 means
	// DefaultTokenCacheSize, negative turns the cache off. It should
	// exceed the number of users active at once: a miss costs a full
	// verification (about 150µs for EdDSA), a hit about 1µs. An entry
	// takes roughly 100 bytes plus the subject.
	TokenCacheSize int

	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
	// Logger gets JWKS failures and, at debug level, why a token was
	// refused (never the token or a key). nil means slog.Default().
	Logger *slog.Logger

	// after waits between background refreshes; tests replace it to drive
	// the loop without sleeping. nil means time.After.
	after func(time.Duration) <-chan time.Time
}

// withDefaults checks c and fills in its zero values.
func (c Config) withDefaults() (Config, error) {
	if c.JWKSURL == "" && len(c.Secret) == 0 {
		return c, errors.New("auth: no key source: set a JWKS URL (AUTH_JWKS_URL), an HMAC secret (AUTH_JWT_SECRET), or both")
	}
	if len(c.Secret) > 0 && len(c.Secret) < MinSecretBytes {
		return c, fmt.Errorf("auth: HMAC secret (AUTH_JWT_SECRET) is %d bytes; use at least %d random bytes", len(c.Secret), MinSecretBytes)
	}
	if c.JWKSURL != "" {
		u, err := url.Parse(c.JWKSURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, fmt.Errorf("auth: JWKS URL (AUTH_JWKS_URL) %q is not an http(s) URL", c.JWKSURL)
		}
	}
	for name, d := range map[string]time.Duration{
		"clock skew": c.ClockSkew, "refresh interval": c.RefreshInterval,
		"minimum refresh interval": c.MinRefreshInterval, "fetch timeout": c.FetchTimeout,
	} {
		if d < 0 {
			return c, fmt.Errorf("auth: negative %s %s", name, d)
		}
	}
	c.Secret = append([]byte(nil), c.Secret...) // the caller may reuse its slice
	c.ClockSkew = orDefault(c.ClockSkew, DefaultClockSkew)
	c.RefreshInterval = orDefault(c.RefreshInterval, DefaultRefreshInterval)
	c.MinRefreshInterval = orDefault(c.MinRefreshInterval, DefaultMinRefreshInterval)
	c.FetchTimeout = orDefault(c.FetchTimeout, DefaultFetchTimeout)
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.FetchTimeout}
	}
	if c.TokenCacheSize == 0 {
		c.TokenCacheSize = DefaultTokenCacheSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.after == nil {
		c.after = time.After
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
