package auth

import (
	"net/http"
	"strings"

	"github.com/example/tasks"
)

// Authenticate returns the caller of r: the subject of the token in its one
// Authorization: Bearer header (see BearerToken), verified. Errors are
// those of Verify; a request without a usable header is "invalid token".
// It is what the HTTP layer calls for every request that needs a caller.
func (v *Verifier) Authenticate(r *http.Request) (tasks.User, error) {
	token, ok := BearerToken(r.Header)
	if !ok {
		return tasks.User{}, errInvalid("no single Authorization: Bearer header")
	}
	return v.Verify(r.Context(), token)
}

// BearerToken returns the token of the request's one "Authorization:
// Bearer <token>" header (the scheme in any case). Only that header counts:
// a token in the query string or a cookie leaks into logs, histories and
// CSRF, so it is ignored and the request is anonymous. ok is false when the
// header is missing, repeated, uses another scheme, or is longer than
// MaxTokenBytes (checked before anything else looks at it).
func BearerToken(h http.Header) (token string, ok bool) {
	values := h.Values("Authorization")
	if len(values) != 1 {
		return "", false
	}
	v := values[0]
	const scheme = "Bearer "
	if len(v) > len(scheme)+MaxTokenBytes || len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	token = strings.TrimLeft(v[len(scheme):], " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}
