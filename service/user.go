package service

import "context"

// User is the authenticated caller.
type User struct {
	// ID is the JWT subject; tasks belong to it.
	ID string
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
