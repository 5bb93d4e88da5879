package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/example/tasks/auth"
)

// TestIdentityTokensVerify checks that the server's verifier accepts the
// tool's tokens through the tool's JWKS, and that a key file gives the
// same key (and kid) to a later run.
func TestIdentityTokensVerify(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "bench.key")
	id, err := loadIdentity(file)
	if err != nil {
		t.Fatal(err)
	}
	again, err := loadIdentity(file)
	if err != nil {
		t.Fatal(err)
	}
	if again.kid != id.kid || !again.key.Equal(id.key) {
		t.Fatal("key file did not keep the key")
	}
	ln, url, err := id.serveJWKS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := auth.New(ctx, auth.Config{JWKSURL: url, Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	tok, err := again.token("bench-user-00001", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	u, err := v.Verify(ctx, tok)
	if err != nil || u.ID != "bench-user-00001" {
		t.Fatalf("Verify = %v, %v", u, err)
	}
}
