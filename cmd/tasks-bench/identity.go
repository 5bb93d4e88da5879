package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// issuer is what the tool puts in iss; the server checks it only when
// AUTH_ISSUER is set.
const issuer = "tasks-bench"

// identity is the tool's token issuer: one Ed25519 key, published as a
// JWKS the way Better-Auth publishes its keys, signing one EdDSA token per
// user. The key can live in a file so a server started separately (with
// AUTH_JWKS_URL at `tasks-bench jwks`) keeps accepting the tokens of later
// runs.
type identity struct {
	key ed25519.PrivateKey
	kid string
	jwk jwk.Key // the private key with kid and alg, for signing
}

// loadIdentity reads the hex seed in path, creating the file with a new
// key when it does not exist; an empty path is a key for this process only.
func loadIdentity(path string) (*identity, error) {
	var seed []byte
	if path != "" {
		if data, err := os.ReadFile(path); err == nil {
			seed, err = hex.DecodeString(strings.TrimSpace(string(data)))
			if err != nil || len(seed) != ed25519.SeedSize {
				return nil, fmt.Errorf("key file %s: want %d hex-encoded bytes", path, ed25519.SeedSize)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if seed == nil {
		seed = make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		if path != "" {
			if err := os.WriteFile(path, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
				return nil, err
			}
		}
	}
	return newIdentity(seed)
}

func newIdentity(seed []byte) (*identity, error) {
	key := ed25519.NewKeyFromSeed(seed)
	sum := sha256.Sum256(key.Public().(ed25519.PublicKey))
	id := &identity{key: key, kid: "bench-" + hex.EncodeToString(sum[:6])}
	k, err := jwk.FromRaw(key)
	if err != nil {
		return nil, err
	}
	if err := k.Set(jwk.KeyIDKey, id.kid); err != nil {
		return nil, err
	}
	if err := k.Set(jwk.AlgorithmKey, jwa.EdDSA); err != nil {
		return nil, err
	}
	id.jwk = k
	return id, nil
}

// jwks is the public key set, as served at the JWKS URL.
func (id *identity) jwks() ([]byte, error) {
	pub, err := id.jwk.PublicKey()
	if err != nil {
		return nil, err
	}
	if err := pub.Set(jwk.KeyUsageKey, jwk.ForSignature); err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return nil, err
	}
	return json.Marshal(set)
}

// token signs an EdDSA token for sub that is valid for ttl.
func (id *identity) token(sub string, ttl time.Duration) (string, error) {
	now := time.Now()
	tok, err := jwt.NewBuilder().Issuer(issuer).Subject(sub).IssuedAt(now).Expiration(now.Add(ttl)).Build()
	if err != nil {
		return "", err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA, id.jwk))
	return string(signed), err
}

// serveJWKS serves the key set at /jwks on addr until the listener is
// closed; it returns the listener and the JWKS URL.
func (id *identity) serveJWKS(addr string) (net.Listener, string, error) {
	body, err := id.jwks()
	if err != nil {
		return nil, "", err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(body)
	})
	go (&http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}).Serve(ln)
	return ln, "http://" + ln.Addr().String() + "/jwks", nil
}
