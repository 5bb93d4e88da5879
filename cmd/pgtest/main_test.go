package main

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/example/tasks/internal/readyfile"
)

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"-ready-file", "x", "stray"}} {
		if err := run(context.Background(), args); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("%q: got %v, want the usage", args, err)
		}
	}
}

// TestServesUntilCancelled starts a cluster as the TypeScript harnesses
// do, queries it through the URL in the ready file, and stops it.
func TestServesUntilCancelled(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/lib/postgresql/15/bin/initdb"); err != nil && os.Getenv("PGTEST_BINDIR") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required when CI=true: %v", err)
		}
		t.Skipf("no PostgreSQL server binaries: %v", err)
	}
	dir := t.TempDir()
	ready, log := filepath.Join(dir, "pg.json"), filepath.Join(dir, "postgres.log")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-ready-file", ready, "-log", log, "-c", "work_mem=7MB"}) }()
	waitCtx, stop := context.WithTimeout(context.Background(), 2*time.Minute)
	defer stop()
	info, err := readyfile.Wait(waitCtx, ready, nil)
	if err != nil {
		cancel()
		t.Fatalf("%v (run: %v)", err, <-done)
	}
	if info.PID <= 0 {
		t.Errorf("no postmaster pid in %+v", info)
	}

	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(info.URL)))
	var workMem string
	if err := db.QueryRowContext(waitCtx, "SHOW work_mem").Scan(&workMem); err != nil || workMem != "7MB" {
		t.Errorf("SHOW work_mem = %q, %v; want the -c setting 7MB", workMem, err)
	}
	db.Close()

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if _, err := os.Stat(ready); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ready file left behind: %v", err)
	}
	// The server's log outlives the cluster.
	if data, err := os.ReadFile(log); err != nil || !strings.Contains(string(data), "database system is ready to accept connections") {
		t.Errorf("server log %s: %v\n%s", log, err, data)
	}
}
