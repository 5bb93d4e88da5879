package storage

import (
	"bytes"
	"context"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/example/tasks"
)

// TestMigrateConcurrently starts several replicas on one empty database at
// once: all succeed, and the schema is applied exactly once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			cfg := b.config(t)
			const replicas = 4
			stores := make([]*Store, replicas)
			for i := range stores {
				stores[i] = mustOpen(t, cfg)
			}
			applied := migrateAtOnce(t, stores)
			var appliers int
			for _, names := range applied {
				if len(names) > 0 {
					appliers++
				}
			}
			if appliers != 1 {
				t.Errorf("%d replicas applied migrations (%v), want 1", appliers, applied)
			}
			ms, err := stores[0].Migrations(testContext(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if !m.Applied || m.GroupID != 1 {
					t.Errorf("migration %+v", m)
				}
			}
			var rows int
			if err := stores[0].reader.NewSelect().Table("bun_migrations").ColumnExpr("count(*)").Scan(testContext(t), &rows); err != nil {
				t.Fatal(err)
			}
			if rows != len(ms) {
				t.Errorf("%d rows in bun_migrations for %d migrations", rows, len(ms))
			}
			// Every replica uses the same page token key.
			user := newUser()
			for range 3 {
				mustCreate(t, stores[1], user, tasks.NewTask{Title: "x"})
			}
			page := mustList(t, stores[2], user, tasks.ListQuery{PageSize: 1})
			mustList(t, stores[3], user, tasks.ListQuery{PageSize: 1, PageToken: page.NextPageToken})
		})
	}
}

// migrateAtOnce runs MigrateUp on all stores at once and returns what
// each applied.
func migrateAtOnce(t *testing.T, stores []*Store) [][]string {
	applied := make([][]string, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			var err error
			if applied[i], err = s.MigrateUp(testContext(t)); err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	return applied
}

func TestMigrateDownAndUp(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := mustOpen(t, b.config(t))
			ctx := testContext(t)
			mustStatus(t, s, "pending")
			all := len(s.migrations.Sorted())
			applied, err := s.MigrateUp(ctx)
			if err != nil || len(applied) != all {
				t.Fatalf("up: %v, %v; want all %d", applied, err, all)
			}
			mustStatus(t, s, "applied")
			if again, err := s.MigrateUp(ctx); err != nil || len(again) != 0 {
				t.Fatalf("up again: %v, %v", again, err)
			}
			task := mustCreate(t, s, newUser(), tasks.NewTask{Title: "before down"})
			down, err := s.MigrateDown(ctx)
			if err != nil || len(down) != all {
				t.Fatalf("down: %v, %v; want the group of %d", down, err, all)
			}
			mustStatus(t, s, "pending")
			_, err = s.GetTask(ctx, "u", task.ID)
			wantKind(t, err, tasks.KindInternal) // no tasks table
			if _, err := s.MigrateUp(ctx); err != nil {
				t.Fatalf("up after down: %v", err)
			}
			mustCreate(t, s, newUser(), tasks.NewTask{Title: "after up"})
		})
	}
}

func mustStatus(tb testing.TB, s *Store, want string) {
	tb.Helper()
	var buf bytes.Buffer
	if err := s.MigrationStatus(testContext(tb), &buf); err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1+len(s.migrations.Sorted()) || !strings.Contains(lines[1], "_tasks") {
		tb.Errorf("status, want a line per migration:\n%s", buf.String())
	}
	for _, line := range lines[1:] {
		if !strings.Contains(line, want) {
			tb.Errorf("status, want %s:\n%s", want, buf.String())
		}
	}
}

// TestMigrationFailureLeavesNothing runs a migration whose second statement
// fails: its first statement is undone and nothing is marked applied.
func TestMigrationFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := mustOpen(t, b.config(t))
			s.migrations = mustMigrationSet(t, fstest.MapFS{
				"1_good.up.sql": {Data: []byte("CREATE TABLE good (x integer)")},
				"2_bad.up.sql":  {Data: []byte("CREATE TABLE bad (x integer);\n--bun:split\nSELECT * FROM no_such_table")},
			})
			if _, err := s.MigrateUp(testContext(t)); err == nil {
				t.Fatal("a failing migration succeeded")
			}
			status, err := s.Migrations(testContext(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range status {
				if m.Applied {
					t.Errorf("%s marked applied", m.Name)
				}
			}
			for _, table := range []string{"good", "bad"} {
				var n int
				err := s.reader.NewSelect().TableExpr(table).ColumnExpr("count(*)").Scan(context.Background(), &n)
				if err == nil {
					t.Errorf("table %s exists after the failed migration", table)
				}
			}
		})
	}
}

// mustMigrationSet reads the migrations in fsys.
func mustMigrationSet(tb testing.TB, fsys fs.FS) migrationSet {
	tb.Helper()
	set, err := discoverMigrations(fsys)
	if err != nil {
		tb.Fatal(err)
	}
	return set
}
