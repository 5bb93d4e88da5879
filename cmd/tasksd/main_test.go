package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/tasks/auth"
)

// TestRunErrors: the subcommands refuse bad invocations with a message
// that says what to do.
func TestRunErrors(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	env := envMap(map[string]string{"DATA_DIR": dataDir})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"migrate"}, "usage: tasksd migrate"},
		{[]string{"migrate", "sideways"}, "unknown migrate action"},
		{[]string{"migrate", "up", "-database-url", "mysql://x"}, "DATABASE_URL"},
		{[]string{"token", "-ttl", "-1h"}, "-ttl must be positive"},
		{[]string{"token"}, "no secret"},
		{[]string{"serve"}, "no token source"},
		{[]string{"dev", "-listen-addr", "nowhere"}, "LISTEN_ADDR"},
	} {
		err := run(context.Background(), tc.args, env, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error mentioning %q", tc.args, err, tc.want)
		}
	}
}

// TestTokenCommand: `tasksd token` mints a token the server's verifier
// accepts for the given subject, with AUTH_JWT_SECRET or dev mode's secret.
func TestTokenCommand(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	secret, err := loadDevSecret(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := loadDevSecret(dataDir); err != nil || again != secret {
		t.Fatalf("dev secret not kept: %v", err)
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, devSecretFile), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadDevSecret(bad); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("a damaged dev secret: got %v", err)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"token", "-sub", "alice", "-ttl", "10m"}, envMap(map[string]string{"DATA_DIR": dataDir}), &out); err != nil {
		t.Fatal(err)
	}
	v, err := auth.New(context.Background(), auth.Config{Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	user, err := v.Verify(context.Background(), strings.TrimSpace(out.String()))
	if err != nil || user.ID != "alice" {
		t.Errorf("minted token: %v, %v", user, err)
	}
}
