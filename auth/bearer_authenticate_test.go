package auth

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/example/tasks"
)

// TestAuthenticate checks what the HTTP layer gets for each way a request
// can carry, or fail to carry, a token: the caller, or an Unauthenticated
// error with one of the two messages a client may see.
func TestAuthenticate(t *testing.T) {
	t.Parallel()
	ed, _, _ := mustKeys(t)
	srv := mustJWKSServer(t, mustPublicJWK(t, ed))
	v := mustVerifier(t, Config{JWKSURL: srv.url(), Secret: testSecret})
	good := mustSignWith(t, jwa.HS256, testSecret, nil, goodClaims())
	expired := mustSignWith(t, jwa.HS256, testSecret, nil, goodClaims().with("exp", t0.Add(-time.Hour).Unix()))

	cases := []struct {
		name    string
		auth    []string // Authorization header values
		wantSub string
		wantMsg string
	}{
		{name: "HS256", auth: []string{"Bearer " + good}, wantSub: "user-1"},
		{name: "EdDSA", auth: []string{"Bearer " + mustSign(t, ed, goodClaims().with("sub", "ed-user"))}, wantSub: "ed-user"},
		{name: "scheme in lower case", auth: []string{"bearer " + good}, wantSub: "user-1"},
		{name: "no header", wantMsg: msgInvalid},
		{name: "expired", auth: []string{"Bearer " + expired}, wantMsg: msgExpired},
		{name: "forged", auth: []string{"Bearer " + alterPayload(t, good, goodClaims().with("sub", "admin"))}, wantMsg: msgInvalid},
		{name: "Basic scheme", auth: []string{"Basic dXNlcjpwYXNz"}, wantMsg: msgInvalid},
		{name: "Token scheme", auth: []string{"Token " + good}, wantMsg: msgInvalid},
		{name: "no scheme", auth: []string{good}, wantMsg: msgInvalid},
		{name: "two headers", auth: []string{"Bearer " + good, "Bearer " + good}, wantMsg: msgInvalid},
		{name: "over 8 KiB", auth: []string{"Bearer " + strings.Repeat("a", MaxTokenBytes+1)}, wantMsg: msgInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/tasks.v1.TaskService/GetTask", nil)
			for _, a := range c.auth {
				r.Header.Add("Authorization", a)
			}
			user, err := v.Authenticate(r)
			if c.wantSub != "" {
				if err != nil || user.ID != c.wantSub {
					t.Fatalf("got %q, %v; want user %q", user.ID, err, c.wantSub)
				}
				// The token is accepted until its exp plus the skew, and
				// so are calls that outlast it (watches).
				if want := t0.Add(14 * time.Minute).Add(DefaultClockSkew); !user.Expires.Equal(want) {
					t.Errorf("expires %v, want %v", user.Expires, want)
				}
				if again, err := v.Authenticate(r); err != nil || !again.Expires.Equal(user.Expires) {
					t.Errorf("from the cache: %+v, %v", again, err)
				}
				return
			}
			wantRefusal(t, err, tasks.KindUnauthenticated, c.wantMsg)
		})
	}
}
