package auth

import (
	"errors"

	"github.com/example/tasks"
)

// The messages a client sees from this package: for bad credentials these
// two, so that a caller probing with forged tokens learns nothing about
// which check failed, and for a genuine token whose sub cannot be a user,
// msgInvalid followed by what is wrong with it (checkSubject).
const (
	msgInvalid     = "invalid token"
	msgExpired     = "token expired"
	msgUnavailable = "signing keys unavailable"
)

// errInvalid is the rejection of a token for any reason but expiry. cause
// is for logs; it never reaches the client.
func errInvalid(cause string) error {
	return tasks.WrapError(tasks.KindUnauthenticated, errors.New(cause), msgInvalid)
}

// errInvalidWrap is errInvalid with an error as the cause.
func errInvalidWrap(cause error) error {
	return tasks.WrapError(tasks.KindUnauthenticated, cause, msgInvalid)
}

var errExpired = tasks.Errorf(tasks.KindUnauthenticated, msgExpired)

// errUnavailable is what an asymmetric token gets while no JWKS has ever
// been fetched: the token may be fine, the server just cannot tell yet, so
// the client should retry rather than sign in again.
var errUnavailable = tasks.Errorf(tasks.KindUnavailable, msgUnavailable)
