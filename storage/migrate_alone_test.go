package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"maps"
	neturl "net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/example/tasks"
	"github.com/example/tasks/internal/pgtest"
)

// concurrentIndexSet is the store's migrations, then an ordinary
// migration, one that adds an index to its table with CREATE INDEX
// CONCURRENTLY (which cannot run in a transaction block), and another
// ordinary one.
func concurrentIndexSet(tb testing.TB) migrationSet {
	return mustMigrationSet(tb, concurrentIndexFiles(tb))
}

func concurrentIndexFiles(tb testing.TB) fstest.MapFS {
	tb.Helper()
	files := fstest.MapFS{
		"99990000000001_items.up.sql": {Data: []byte("CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL);\n" +
			"--bun:split\nINSERT INTO items SELECT i, 'item ' || (i % 7) FROM generate_series(1, 1000) AS i")},
		"99990000000001_items.down.sql": {Data: []byte("DROP TABLE items")},
		"99990000000002_items_name.up.sql": {Data: []byte(noTxDirective + "\nDROP INDEX CONCURRENTLY IF EXISTS items_name;\n" +
			"--bun:split\nCREATE INDEX CONCURRENTLY items_name ON items (name)")},
		"99990000000002_items_name.down.sql": {Data: []byte(noTxDirective + "\nDROP INDEX CONCURRENTLY IF EXISTS items_name")},
		"99990000000003_items_done.up.sql":   {Data: []byte("ALTER TABLE items ADD COLUMN done boolean NOT NULL DEFAULT false")},
		"99990000000003_items_done.down.sql": {Data: []byte("ALTER TABLE items DROP COLUMN done")},
	}
	real, err := fs.Sub(migrationFiles, "migrations/postgres")
	if err != nil {
		tb.Fatal(err)
	}
	entries, err := fs.ReadDir(real, ".")
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		data, err := fs.ReadFile(real, e.Name())
		if err != nil {
			tb.Fatal(err)
		}
		files[e.Name()] = &fstest.MapFile{Data: data}
	}
	return files
}

// The test's own migrations, after the store's.
const (
	itemsTable = "99990000000001_items"
	itemsIndex = "99990000000002_items_name"
	itemsDone  = "99990000000003_items_done"
)

// storeMigrations are the names of the store's own migrations.
func storeMigrations() []string {
	var out []string
	for _, m := range pgMigrations.Sorted() {
		out = append(out, m.String())
	}
	return out
}

// TestMigrationAloneUpAndDown applies a set whose last migration but one
// creates an index concurrently: the ordinary migrations before it in a
// transaction, the index outside one, and the migration after it in
// another transaction, each run a group of its own; then rolls them back
// one group at a time, the index with DROP INDEX CONCURRENTLY.
func TestMigrationAloneUpAndDown(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, backends[0].config(t))
	s.migrations = concurrentIndexSet(t)
	ctx := testContext(t)
	all := append(storeMigrations(), itemsTable, itemsIndex, itemsDone)
	applied, err := s.MigrateUp(ctx)
	if err != nil || !slices.Equal(applied, all) {
		t.Fatalf("up: %v, %v; want %v", applied, err, all)
	}
	mustIndex(t, s, "items_name", true)
	mustGroups(t, s, 1, map[string]int64{itemsTable: 1, itemsIndex: 2, itemsDone: 3})
	if again, err := s.MigrateUp(ctx); err != nil || len(again) != 0 {
		t.Fatalf("up again: %v, %v; want nothing", again, err)
	}
	mustGroups(t, s, 1, map[string]int64{itemsTable: 1, itemsIndex: 2, itemsDone: 3})
	mustCreate(t, s, newUser(), tasks.NewTask{Title: "the store works"})

	if down, err := s.MigrateDown(ctx); err != nil || !slices.Equal(down, []string{itemsDone}) {
		t.Fatalf("down: %v, %v; want %s", down, err, itemsDone)
	}
	mustIndex(t, s, "items_name", true)
	if down, err := s.MigrateDown(ctx); err != nil || !slices.Equal(down, []string{itemsIndex}) {
		t.Fatalf("down: %v, %v; want %s", down, err, itemsIndex)
	}
	mustNoIndex(t, s, "items_name")
	mustGroups(t, s, 1, map[string]int64{itemsTable: 1})
	if down, err := s.MigrateDown(ctx); err != nil || len(down) != len(all)-2 {
		t.Fatalf("down: %v, %v; want the first group", down, err)
	}
	if applied, err := s.MigrateUp(ctx); err != nil || !slices.Equal(applied, all) {
		t.Fatalf("up after down: %v, %v", applied, err)
	}
	mustIndex(t, s, "items_name", true)
}

// TestMigrationAloneConcurrently starts several replicas on one empty
// database at once: all succeed, and each migration is applied exactly
// once, the index valid.
func TestMigrationAloneConcurrently(t *testing.T) {
	t.Parallel()
	cfg := backends[0].config(t)
	const replicas = 4
	stores := make([]*Store, replicas)
	for i := range stores {
		stores[i] = mustOpen(t, cfg)
		stores[i].migrations = concurrentIndexSet(t)
	}
	applied := migrateAtOnce(t, stores)
	got := slices.Sorted(slices.Values(slices.Concat(applied...)))
	want := append(storeMigrations(), itemsTable, itemsIndex, itemsDone)
	if !slices.Equal(got, want) {
		t.Errorf("applied %v between them, want each of %v once", applied, want)
	}
	mustIndex(t, stores[0], "items_name", true)
	mustGroups(t, stores[0], 1, map[string]int64{itemsTable: 1, itemsIndex: 2, itemsDone: 3})
}

// TestMigrationAloneThroughPooler: through PgBouncer in transaction mode, a
// migration outside a transaction runs on the listen URL, straight to the
// database. Without one, the pooler is refused before anything is locked
// or run, and the migration stays pending; once it is applied, the pooler
// alone is enough for a start that has nothing to migrate.
func TestMigrationAloneThroughPooler(t *testing.T) {
	t.Parallel()
	direct := pgtest.NewDatabase(t)
	pooled := pgtest.RequireBouncer(t).URL(t, direct)
	ctx := testContext(t)

	refused := mustOpen(t, Config{URL: pooled, SimpleProtocol: true})
	refused.migrations = concurrentIndexSet(t)
	applied, err := refused.MigrateUp(ctx)
	if err == nil || !strings.Contains(err.Error(), itemsIndex) || !strings.Contains(err.Error(), "pooler") {
		t.Fatalf("up through the pooler alone: %v, %v; want %s refused", applied, err, itemsIndex)
	}
	if want := append(storeMigrations(), itemsTable); !slices.Equal(applied, want) {
		t.Errorf("applied %v before the refusal, want %v", applied, want)
	}
	mustNoIndex(t, refused, "items_name")
	mustGroups(t, refused, 1, map[string]int64{itemsTable: 1})

	s := mustOpen(t, Config{URL: pooled, SimpleProtocol: true, ListenURL: direct})
	s.migrations = concurrentIndexSet(t)
	if applied, err := s.MigrateUp(ctx); err != nil || !slices.Equal(applied, []string{itemsIndex, itemsDone}) {
		t.Fatalf("up with a listen URL: %v, %v; want %s, %s", applied, err, itemsIndex, itemsDone)
	}
	mustIndex(t, s, "items_name", true)
	mustGroups(t, s, 1, map[string]int64{itemsTable: 1, itemsIndex: 2, itemsDone: 3})
	// Applied, the migration alone needs no session: a start through the
	// pooler alone now has nothing to do and is not refused.
	if again, err := refused.MigrateUp(ctx); err != nil || len(again) != 0 {
		t.Fatalf("up again through the pooler alone: %v, %v; want nothing", again, err)
	}
	for _, want := range []string{itemsDone, itemsIndex} {
		if down, err := s.MigrateDown(ctx); err != nil || !slices.Equal(down, []string{want}) {
			t.Fatalf("down: %v, %v; want %s", down, err, want)
		}
	}
	mustNoIndex(t, s, "items_name")
}

// TestMigrationAloneFailure: a concurrent index that cannot be built fails
// its migration, which is reported by name and not recorded, and leaves
// the INVALID index PostgreSQL keeps; the later migrations do not run.
// Fixed and re-runnable (dropping the leftover first), the next MigrateUp
// applies it.
func TestMigrationAloneFailure(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, backends[0].config(t))
	ctx := testContext(t)
	files := concurrentIndexFiles(t)
	files[itemsIndex+".up.sql"] = &fstest.MapFile{Data: []byte(noTxDirective +
		"\nCREATE UNIQUE INDEX CONCURRENTLY items_name ON items (name)")} // names repeat
	s.migrations = mustMigrationSet(t, files)
	applied, err := s.MigrateUp(ctx)
	if err == nil || !strings.Contains(err.Error(), itemsIndex) {
		t.Fatalf("up: %v, %v; want %s failed", applied, err, itemsIndex)
	}
	if want := append(storeMigrations(), itemsTable); !slices.Equal(applied, want) {
		t.Errorf("applied %v before the failure, want %v", applied, want)
	}
	mustGroups(t, s, 1, map[string]int64{itemsTable: 1})
	mustIndex(t, s, "items_name", false)

	s.migrations = concurrentIndexSet(t)
	if applied, err := s.MigrateUp(ctx); err != nil || !slices.Equal(applied, []string{itemsIndex, itemsDone}) {
		t.Fatalf("up, fixed: %v, %v; want %s, %s", applied, err, itemsIndex, itemsDone)
	}
	mustIndex(t, s, "items_name", true)
	mustGroups(t, s, 1, map[string]int64{itemsTable: 1, itemsIndex: 2, itemsDone: 3})
}

// TestMigrationSetDirectives: the directive is honoured as an up file's
// first line only; misplaced or misspelt, it is an error.
func TestMigrationSetDirectives(t *testing.T) {
	t.Parallel()
	set := concurrentIndexSet(t)
	if want := map[string]bool{"99990000000002": true}; !maps.Equal(set.alone, want) {
		t.Errorf("alone %v, want %v", set.alone, want)
	}
	for name, files := range map[string]fstest.MapFS{
		"not first": {"1_x.up.sql": {Data: []byte("SELECT 1\n" + noTxDirective)}},
		"misspelt":  {"1_x.up.sql": {Data: []byte("--tasks:no-transactions\nSELECT 1")}},
		"down only": {
			"1_x.up.sql":   {Data: []byte("SELECT 1")},
			"1_x.down.sql": {Data: []byte(noTxDirective + "\nSELECT 1")},
		},
	} {
		if _, err := discoverMigrations(files); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// mustIndex fails unless the index exists, valid (pg_index.indisvalid) or
// not as wanted.
func mustIndex(tb testing.TB, s *Store, name string, valid bool) {
	tb.Helper()
	exists, isValid := indexState(tb, s, name)
	if !exists || isValid != valid {
		tb.Errorf("index %s: exists %t, valid %t; want valid %t", name, exists, isValid, valid)
	}
}

func mustNoIndex(tb testing.TB, s *Store, name string) {
	tb.Helper()
	if exists, _ := indexState(tb, s, name); exists {
		tb.Errorf("index %s exists", name)
	}
}

func indexState(tb testing.TB, s *Store, name string) (exists, valid bool) {
	tb.Helper()
	err := s.reader.QueryRowContext(testContext(tb),
		"SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(?)", name).Scan(&valid)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false
	}
	if err != nil {
		tb.Fatal(err)
	}
	return true, valid
}

// mustGroups fails unless bun_migrations records exactly the store's own
// migrations, in group store, and the test's in want (name: group).
func mustGroups(tb testing.TB, s *Store, store int64, want map[string]int64) {
	tb.Helper()
	want = maps.Clone(want)
	for _, name := range storeMigrations() {
		want[name] = store
	}
	versions := map[string]string{} // version: name
	for name := range want {
		version, _, _ := strings.Cut(name, "_")
		versions[version] = name
	}
	var rows []struct {
		Name    string
		GroupID int64
	}
	if err := s.reader.NewSelect().Table("bun_migrations").Column("name", "group_id").
		Scan(context.Background(), &rows); err != nil {
		tb.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range rows {
		name := cmp.Or(versions[r.Name], r.Name)
		if _, dup := got[name]; dup {
			tb.Errorf("migration %s recorded twice", name)
		}
		got[name] = r.GroupID
	}
	if !maps.Equal(got, want) {
		tb.Errorf("recorded %v, want %v", got, want)
	}
}

// TestMigrationAloneWhileAnotherWaits: a replica that starts migrating
// while another builds an index concurrently waits for it without holding
// a snapshot, which the build would wait for in turn: neither fails
// (PostgreSQL would find a deadlock and abort one of them).
func TestMigrationAloneWhileAnotherWaits(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	url := pgtest.NewDatabase(t)
	named := func(name string) Config {
		u, err := neturl.Parse(url)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("application_name", name)
		u.RawQuery = q.Encode()
		return Config{URL: u.String()}
	}
	first := mustOpen(t, named("first"))
	first.migrations = migrationSet{Migrations: migrationsOf(concurrentIndexSet(t).Sorted()[:len(storeMigrations())+1]...)}
	if _, err := first.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	// A write in flight on the table holds the build back.
	writer, err := first.writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Rollback()
	if _, err := writer.ExecContext(ctx, "UPDATE items SET name = name WHERE id = 1"); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, name := range []string{"building", "waiting"} {
		s := mustOpen(t, named(name))
		s.migrations = concurrentIndexSet(t)
		wg.Go(func() { _, errs[i] = s.MigrateUp(ctx) })
		waitForActivity(t, first, name, map[string]string{
			"building": "wait_event_type = 'Lock' AND query LIKE 'CREATE INDEX CONCURRENTLY%'",
			"waiting":  "(query LIKE '%advisory%lock%' OR query = 'ROLLBACK')",
		}[name])
	}
	if err := writer.Commit(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	mustIndex(t, first, "items_name", true)
	mustGroups(t, first, 1, map[string]int64{itemsTable: 1, itemsIndex: 2, itemsDone: 3})
}

// waitForActivity waits until a session of application name app does what
// the pg_stat_activity condition cond says.
func waitForActivity(tb testing.TB, s *Store, app, cond string) {
	tb.Helper()
	ctx := testContext(tb)
	for ctx.Err() == nil {
		var n int
		err := s.reader.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND "+cond, app).Scan(&n)
		if err != nil {
			tb.Fatal(err)
		}
		if n > 0 {
			return
		}
		sleep(ctx, 10*time.Millisecond)
	}
	tb.Fatalf("no session of %s: %s", app, cond)
}
