package tasks

import (
	"context"
	"strings"
	"time"
	"unicode"
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

// CheckUserID rejects a user id that cannot name exactly one user: not
// valid UTF-8, holding control characters, or longer than MaxUserIDLen
// characters. It also refuses U+FFFD, the replacement character: decoders
// (JSON's among them, so a JWT's sub) put it in place of bytes that were
// not UTF-8, so two different ids would arrive as one and share their
// tasks. Authentication never lets an empty id through, so that is a bug
// (Internal), not a bad request.
func CheckUserID(id string) error {
	switch {
	case id == "":
		return Errorf(KindInternal, "no user")
	case !utf8.ValidString(id), strings.ContainsRune(id, utf8.RuneError):
		return Errorf(KindInvalid, "user id must be valid UTF-8")
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return Errorf(KindInvalid, "user id must not contain control characters")
	case utf8.RuneCountInString(id) > MaxUserIDLen:
		return Errorf(KindInvalid, "user id must be at most %d characters", MaxUserIDLen)
	}
	return nil
}
