package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

func TestMain(m *testing.M) { Main(m) }

func mustQueryInt(tb testing.TB, dsn, query string) int {
	tb.Helper()
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	if err := db.QueryRowContext(ctx, query).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestNewDatabase(t *testing.T) {
	t.Parallel()
	a, b := NewDatabase(t), NewDatabase(t)
	if a == b {
		t.Fatalf("two databases share the URL %s", a)
	}
	if got := mustQueryInt(t, a, "SELECT 1"); got != 1 {
		t.Errorf("SELECT 1 = %d", got)
	}
}

func TestBouncer(t *testing.T) {
	t.Parallel()
	dsn := NewBouncedDatabase(t)
	if got := mustQueryInt(t, dsn, "SELECT 2"); got != 2 {
		t.Errorf("SELECT 2 = %d", got)
	}
}

// recorder is a testing.TB that records how a test ended.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }
func (r *recorder) Skipf(format string, args ...any)  { r.skip = fmt.Sprintf(format, args...) }

func TestUnavailableFailsUnderCI(t *testing.T) {
	for _, ci := range []string{"true", ""} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			r := &recorder{TB: t}
			unavailable(r, "PostgreSQL", fmt.Errorf("no server"))
			if ci == "true" && (r.fatal == "" || r.skip != "") {
				t.Errorf("CI=true: fatal %q, skip %q; want a failure", r.fatal, r.skip)
			}
			if ci == "" && (r.skip == "" || r.fatal != "") {
				t.Errorf("CI unset: fatal %q, skip %q; want a skip", r.fatal, r.skip)
			}
		})
	}
}
