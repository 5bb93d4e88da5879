package storage

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/uptrace/bun/migrate"
)

// noTxDirective, as the first line of a PostgreSQL migration's .up.sql,
// makes the migration run alone and outside a transaction, each of its
// --bun:split statements by itself: what CREATE INDEX CONCURRENTLY (and
// DROP INDEX CONCURRENTLY) need, which cannot run in a transaction block,
// so that an index is added to a live table without locking out its
// writes. Its .down.sql runs the same way (and may repeat the line).
//
// Such a migration is not undone when one of its statements fails: a
// CREATE INDEX CONCURRENTLY that fails leaves an INVALID index behind. It
// is recorded only once all its statements succeed, so the next MigrateUp
// runs it again from the start: it must be re-runnable, e.g.
// "DROP INDEX CONCURRENTLY IF EXISTS x", then "CREATE INDEX CONCURRENTLY
// x …" (IF NOT EXISTS would keep an invalid leftover).
//
// SQLite's migrations are files of their own and always run in a
// transaction; the directive means nothing there.
const noTxDirective = "--tasks:no-transaction"

// directivePrefix starts every line that is a directive of this package
// (bun's own start with --bun:).
const directivePrefix = "--tasks:"

// migrationSet is the migrations of one database, and which of them run
// alone, outside a transaction (noTxDirective).
type migrationSet struct {
	*migrate.Migrations
	// alone holds the names (versions) of those marked noTxDirective.
	alone map[string]bool
}

func mustDiscover(dir string) migrationSet {
	sub, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		panic(err)
	}
	set, err := discoverMigrations(sub)
	if err != nil {
		panic(err)
	}
	return set
}

// discoverMigrations reads the migrations in fsys: pairs NNNN_name.up.sql
// and .down.sql. A directive other than noTxDirective on an up file's
// first line, or one on the down file of a migration whose up file has
// none, is an error rather than a comment silently ignored.
func discoverMigrations(fsys fs.FS) (migrationSet, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(fsys); err != nil {
		return migrationSet{}, err
	}
	set := migrationSet{Migrations: ms, alone: map[string]bool{}}
	markedDown := map[string]string{} // name: file
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		up := strings.HasSuffix(p, ".up.sql")
		if !up && !strings.HasSuffix(p, ".down.sql") {
			return nil
		}
		marked, err := markedNoTx(fsys, p)
		if err != nil || !marked {
			return err
		}
		name, _, _ := strings.Cut(path.Base(p), "_")
		if up {
			set.alone[name] = true
		} else {
			markedDown[name] = p
		}
		return nil
	})
	if err != nil {
		return migrationSet{}, err
	}
	for name, p := range markedDown {
		if !set.alone[name] {
			return migrationSet{}, fmt.Errorf("migration %s: %s is marked %s but its .up.sql is not", name, p, noTxDirective)
		}
	}
	return set, nil
}

// markedNoTx reports whether the file at p starts with noTxDirective, and
// fails on any other use of a directive.
func markedNoTx(fsys fs.FS, p string) (bool, error) {
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		return false, err
	}
	marked := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(text, directivePrefix) {
			continue
		}
		if text != noTxDirective || line != 1 {
			return false, fmt.Errorf("%s line %d: %q: the only directive is %s, as the first line", p, line, text, noTxDirective)
		}
		marked = true
	}
	return marked, sc.Err()
}

// migrationStep is one part of MigrateUp: a transaction that applies
// whichever of ordinary are pending, or the migration alone, outside a
// transaction, when alone is not nil.
type migrationStep struct {
	ordinary migrate.MigrationSlice
	alone    *migrate.Migration
}

// steps splits the set at each migration that runs alone, in order, when
// split (where the database can run one; otherwise the set is one
// transaction, as on SQLite). Each transaction's Migrator sees every
// ordinary migration up to its end, so one somehow left behind is applied
// too (bun applies whatever of its list is pending); none sees a
// migration that must run alone. The last step is always a transaction,
// possibly one with nothing to apply: MigrateUp finishes there.
func (set migrationSet) steps(split bool) []migrationStep {
	var steps []migrationStep
	var ordinary migrate.MigrationSlice
	since := 0 // ordinary migrations since the last step
	for _, m := range set.Sorted() {
		if !split || !set.alone[m.Name] {
			ordinary = append(ordinary, m)
			since++
			continue
		}
		if since > 0 {
			steps = append(steps, migrationStep{ordinary: ordinary[:len(ordinary):len(ordinary)]})
			since = 0
		}
		steps = append(steps, migrationStep{alone: &m})
	}
	return append(steps, migrationStep{ordinary: ordinary})
}

// migrationsOf is ms as a Migrator takes them.
func migrationsOf(ms ...migrate.Migration) *migrate.Migrations {
	out := migrate.NewMigrations()
	for _, m := range ms {
		out.Add(m)
	}
	return out
}
