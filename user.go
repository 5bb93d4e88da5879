package tasks

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// User is the authenticated caller.
type User struct {
	// ID is the JWT subject; tasks belong to it.
	ID string
	// Expires is when the credentials the caller presented stop being
	// accepted (a JWT's exp, with the allowed clock skew); a call that
	// outlives them, such as a watch, ends then. Zero means never.
	Expires time.Time
}

type userKey struct{}

// WithUser returns a context that carries the authenticated caller.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the caller that authentication put in ctx.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok && u.ID != ""
}

// CheckUserID rejects a user id a store cannot keep. Authentication never
// lets an empty one through, so that is a bug (Internal), not a bad
// request.
func CheckUserID(id string) error {
	switch {
	case id == "":
		return Errorf(KindInternal, "no user")
	case utf8.RuneCountInString(id) > MaxUserIDLen, strings.ContainsRune(id, 0):
		return Errorf(KindInvalid, "user id is too long")
	}
	return nil
}
