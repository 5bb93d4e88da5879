// Package auth decides who is calling: it verifies the bearer JWT of a
// request and returns the caller as a tasks.User, or a tasks.Error saying
// why not (the HTTP layer, service.Authenticate, writes it to the client
// before the request body is read). Asymmetric tokens (Better-Auth's
// EdDSA, ES*, RS* and PS* keys) are checked against a JWKS that is cached
// and refreshed in the background and on unknown key IDs; HMAC tokens
// against a shared secret. It knows JWTs and jwx and nothing of storage or
// Connect; cmd/tasksd builds a Config from the environment and wires it in.
package auth
