package pgtest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// A committed row survives a crash of the server (with synchronous_commit
// on), and a fast restart after an outage; the same URL works after each.
func TestRestart(t *testing.T) {
	t.Parallel()
	c, err := Start(Options{Settings: []string{"synchronous_commit=on"}})
	if err != nil {
		unavailable(t, "a cluster of its own", err)
	}
	defer c.Stop()
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(c.URL())))
	defer db.Close()
	db.SetMaxIdleConns(0) // a connection does not outlive its server
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	pid := c.PID()
	if err := c.Restart(Immediate, 0); err != nil {
		t.Fatal(err)
	}
	if c.PID() == pid {
		t.Fatalf("postmaster pid %d is unchanged: no restart", pid)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO kept VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(Fast, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := mustQueryInt(t, c.URL(), "SELECT sum(n) FROM kept"); n != 3 {
		t.Fatalf("sum %d after the restarts, want 3", n)
	}
}
