// Package auth decides who is calling: it verifies the bearer JWT on every
// request, before the request body is read, and puts the caller's subject
// into the context as a service.User. Asymmetric tokens (Better-Auth's
// EdDSA, ES*, RS* and PS* keys) are checked against a JWKS that is cached and
// refreshed in the background and on unknown key IDs; HMAC tokens against a
// shared secret. It knows JWTs and jwx and nothing of storage; cmd/tasksd
// builds a Config from the environment and wires the middleware in.
package auth
