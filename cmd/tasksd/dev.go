package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// devSecretFile holds dev mode's generated HMAC secret, inside DATA_DIR, so
// tokens stay valid across restarts and `tasksd token` can mint more.
const devSecretFile = "dev-secret"

// devUser is the subject of the token dev mode prints.
const devUser = "dev-user"

// runDev runs the server for local use with no setup: the embedded SQLite
// store and a generated secret in DATA_DIR, listening on localhost. It
// prints a bearer token and a `buf curl` call that work as printed.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseConfig("tasksd dev", args, getenv, parseOptions{listenAddr: "localhost:8080"})
	if err != nil {
		return err
	}
	if cfg.JWTSecret == "" {
		if cfg.JWTSecret, err = loadDevSecret(cfg.DataDir); err != nil {
			return err
		}
	}
	if len(cfg.CORSOrigins) == 0 {
		cfg.CORSOrigins = devOrigins()
	}
	return serve(ctx, cfg, stdout, func(baseURL string) {
		token, err := mintToken(cfg, devUser, 24*time.Hour)
		if err != nil {
			fmt.Fprintln(stdout, "minting a dev token:", err)
			return
		}
		url := strings.Replace(baseURL, "://[::]", "://localhost", 1)
		fmt.Fprintf(stdout, `
Dev mode: data in %s (SQLite unless DATABASE_URL is set); tokens are HS256,
signed with the secret in %s.

A bearer token for user %q, valid for 24 hours:

  %s

Create a task (buf curl finds the API through server reflection):

  buf curl --http2-prior-knowledge --header 'Authorization: Bearer %s' --data '{"title": "Buy milk"}' %s/tasks.v1.TaskService/CreateTask

(No buf CLI? npm install -g @bufbuild/buf, or use web-client/node_modules/.bin/buf
after make deps.) More tokens: go run ./cmd/tasksd token -sub someone-else

Browsers may call the API from %s (CORS_ALLOWED_ORIGINS).
`, cfg.DataDir, filepath.Join(cfg.DataDir, devSecretFile), devUser, token, token, url, strings.Join(cfg.CORSOrigins, " and "))
	})
}

// devOrigins are the browser origins dev mode lets call the API when
// CORS_ALLOWED_ORIGINS is unset (serve lets none): where a Next.js app,
// the reference app among them, runs under `next dev`, so that it works
// against `tasksd dev` as it is.
func devOrigins() []string {
	return []string{"http://localhost:3000", "http://127.0.0.1:3000"}
}

// loadDevSecret reads dev mode's secret, creating it on first use.
func loadDevSecret(dataDir string) (string, error) {
	path := filepath.Join(dataDir, devSecretFile)
	data, err := os.ReadFile(path)
	if err == nil {
		if s := strings.TrimSpace(string(data)); len(s) >= 64 {
			return s, nil
		}
		return "", fmt.Errorf("%s: too short; delete it to generate a new secret", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(b[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return "", err
	}
	return secret, f.Close()
}
