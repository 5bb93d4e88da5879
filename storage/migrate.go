package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/example/tasks"
)

//go:embed migrations
var migrationFiles embed.FS

// The migrations of each database, from migrations/postgres and
// migrations/sqlite. Each is a pair NNNN_name.up.sql and .down.sql, its
// statements separated by --bun:split; on PostgreSQL, one whose first line
// is noTxDirective runs outside a transaction (see migration_set.go).
var (
	pgMigrations     = mustDiscover("migrations/postgres")
	sqliteMigrations = mustDiscover("migrations/sqlite")
)

// MigrateUp applies the migrations the database lacks, in order, and
// returns their names. It is safe to run from several replicas at once: one
// migrates, the others wait and then find nothing to do.
//
// The ordinary migrations between two marked noTxDirective are applied in
// one transaction that takes the advisory lock, applies them and records
// them, so a failed migration leaves nothing of that run behind and is not
// marked applied: all or nothing, per run. The last run also sets the
// role's defaults in the database (see dialect.setDefaults). A migration
// marked noTxDirective runs by itself in between, outside a transaction,
// on a session of its own (see migrateAlone): a failure there leaves
// whatever its statements did, and the migration pending. On an error,
// MigrateUp returns the names of the runs that were applied before it.
func (s *Store) MigrateUp(ctx context.Context) ([]string, error) {
	var applied []string
	var newDefaults bool
	steps := s.migrations.steps(s.migrateAlone != nil)
	done, err := s.appliedAlone(ctx, steps)
	if err != nil {
		return nil, err
	}
	for i, step := range steps {
		if step.alone != nil {
			if done[step.alone.Name] {
				continue
			}
			names, err := s.migrateAlone(ctx, *step.alone, true)
			applied = append(applied, names...)
			if err != nil {
				return applied, err
			}
			continue
		}
		last, before := i == len(steps)-1, len(applied)
		err := s.migrate(ctx, migrationsOf(step.ordinary...), true, func(ctx context.Context, db bun.IDB, m *migrate.Migrator) error {
			if len(step.ordinary) > 0 {
				group, err := m.Migrate(ctx)
				if err != nil {
					return err
				}
				applied = append(applied, names(group)...)
			}
			if !last {
				return nil
			}
			// Under the migration's lock: replicas starting at once would
			// race to add the same role setting.
			var err error
			newDefaults, err = s.dialect.setDefaults(ctx, db, s.cfg.StatementTimeout)
			if err != nil {
				return fmt.Errorf("setting the database role's timeouts: %w", err)
			}
			return nil
		})
		if err != nil {
			return applied[:before], err // the run was rolled back
		}
	}
	if newDefaults {
		// The pools' idle connections started under the old defaults:
		// close them, so new ones get the new. (Through PgBouncer its
		// server connections keep the old until it replaces them:
		// server_lifetime, an hour by default.)
		for _, db := range []*bun.DB{s.writer, s.reader} {
			db.SetMaxIdleConns(0)
			db.SetMaxIdleConns(s.cfg.MaxIdleConns)
		}
	}
	// Make the page token key now rather than on the first list.
	if _, err := s.pageKey(ctx); err != nil {
		return applied, err
	}
	return applied, nil
}

// oneConnection keeps db to a single connection for as long as it is
// open: a migration's statements must all run on one session, the one
// holding its lock (and its transaction).
func oneConnection(db *sql.DB) {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
}

// appliedAlone returns which of the migrations that steps run alone are
// applied already. MigrateUp skips those: every start of every replica
// migrates, and a migration run alone needs a session of its own on the
// listen URL (refused when that is a pooler) even to find that it has
// nothing to do. migrateAlone checks again under its lock, in case
// another replica applies one meanwhile.
func (s *Store) appliedAlone(ctx context.Context, steps []migrationStep) (map[string]bool, error) {
	if !slices.ContainsFunc(steps, func(step migrationStep) bool { return step.alone != nil }) {
		return nil, nil
	}
	ms, err := s.Migrations(ctx)
	if err != nil {
		return nil, err
	}
	done := make(map[string]bool)
	for _, m := range ms {
		if m.Applied && s.migrations.alone[m.Name] {
			done[m.Name] = true
		}
	}
	return done, nil
}

// MigrateDown rolls back the last group of migrations (those one run of
// MigrateUp applied in a transaction, or the one it ran alone) and returns
// their names. A migration that ran alone is rolled back alone too: its
// .down.sql outside a transaction, on a session of its own.
func (s *Store) MigrateDown(ctx context.Context) ([]string, error) {
	var rolledBack []string
	var alone *migrate.Migration
	err := s.migrate(ctx, s.migrations.Migrations, true, func(ctx context.Context, db bun.IDB, m *migrate.Migrator) error {
		if s.migrateAlone != nil {
			last, err := lastGroup(ctx, m)
			if err != nil {
				return err
			}
			if len(last.Migrations) == 1 && s.migrations.alone[last.Migrations[0].Name] {
				alone = &last.Migrations[0]
				return nil
			}
		}
		group, err := m.Rollback(ctx)
		if err != nil {
			return err
		}
		rolledBack = names(group)
		return nil
	})
	if err == nil && alone != nil {
		rolledBack, err = s.migrateAlone(ctx, *alone, false)
	}
	s.keyMu.Lock()
	s.key = nil // the key's table may be gone
	s.keyMu.Unlock()
	return rolledBack, err
}

// lastGroup is the group of migrations m's Rollback would roll back.
func lastGroup(ctx context.Context, m *migrate.Migrator) (*migrate.MigrationGroup, error) {
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, err
	}
	return ms.LastGroup(), nil
}

// Migration is one migration and whether it is applied.
type Migration struct {
	Name      string // the version, e.g. 20250601000000
	Comment   string // what it does, e.g. tasks
	Applied   bool
	GroupID   int64     // the MigrateUp run that applied it; 0 if not applied
	AppliedAt time.Time // zero if not applied
}

// Migrations lists every migration, oldest first, with its status. It
// changes nothing.
func (s *Store) Migrations(ctx context.Context) ([]Migration, error) {
	var out []Migration
	err := s.migrate(ctx, s.migrations.Migrations, false, func(ctx context.Context, db bun.IDB, m *migrate.Migrator) error {
		ms, err := m.MigrationsWithStatus(ctx)
		if err != nil {
			return err
		}
		for _, mig := range ms {
			out = append(out, Migration{
				Name:      mig.Name,
				Comment:   mig.Comment,
				Applied:   mig.IsApplied(),
				GroupID:   mig.GroupID,
				AppliedAt: mig.MigratedAt,
			})
		}
		return nil
	})
	return out, err
}

// MigrationStatus writes a table of the migrations and their status to w,
// for the migrate status command.
func (s *Store) MigrationStatus(ctx context.Context, w io.Writer) error {
	ms, err := s.Migrations(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MIGRATION\tSTATUS\tGROUP\tAPPLIED AT")
	for _, m := range ms {
		status, group, at := "pending", "-", "-"
		if m.Applied {
			status, group, at = "applied", fmt.Sprint(m.GroupID), m.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s_%s\t%s\t%s\t%s\n", m.Name, m.Comment, status, group, at)
	}
	return tw.Flush()
}

func names(g *migrate.MigrationGroup) []string {
	var out []string
	for _, m := range g.Migrations {
		out = append(out, m.Name+"_"+m.Comment)
	}
	return out
}

// migrate runs fn with a Migrator of ms inside one transaction, committed
// when commit is true and fn succeeds, rolled back otherwise.
//
// bun/migrate runs each statement on its *bun.DB, not in a transaction of
// ours. So the Migrator gets a *bun.DB over a pool of exactly one
// connection, on which this function has begun a transaction (and taken
// the dialect's lock against other replicas' migrations): everything the
// Migrator does (create its tables, run the SQL, record what it applied)
// happens in that transaction, and PostgreSQL's DDL is transactional. The
// migration files are plain .up.sql (not .tx.up.sql) so that the Migrator
// does not begin transactions of its own.
func (s *Store) migrate(ctx context.Context, ms *migrate.Migrations, commit bool, fn func(ctx context.Context, db bun.IDB, m *migrate.Migrator) error) (err error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.MigrationTimeout)
	defer cancel()
	defer func() { err = migrationFailed(ctx, err) }()
	sqldb, err := s.migrationDB()
	if err != nil {
		return err
	}
	defer sqldb.Close()
	oneConnection(sqldb)
	db := bun.NewDB(sqldb, s.bunDialect)

	if err := s.beginLocked(ctx, db, sqldb); err != nil {
		return err
	}
	txid, err := s.dialect.txID(ctx, db)
	if err == nil {
		m := migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true))
		if err = m.Init(ctx); err == nil { // bun's own tables
			err = fn(ctx, db, m)
		}
	}
	if err == nil {
		// Had the connection been replaced, statements would have run
		// outside the transaction: make sure they did not.
		var now int64
		if now, err = s.dialect.txID(ctx, db); err == nil && now != txid {
			err = errors.New("storage: the migration's connection changed mid-transaction")
		}
	}
	if err != nil || !commit {
		rollback(sqldb)
		return err
	}
	_, err = db.ExecContext(ctx, "COMMIT")
	return err
}

// beginLocked begins the migration's transaction once it holds the lock
// against other replicas' migrations (see pollLock).
func (s *Store) beginLocked(ctx context.Context, db *bun.DB, sqldb *sql.DB) error {
	return pollLock(ctx, func() (bool, error) {
		for _, q := range s.dialect.beginMigration(s.cfg.MigrationTimeout) {
			if _, err := db.ExecContext(ctx, q); err != nil {
				rollback(sqldb)
				return false, err
			}
		}
		lock := s.dialect.lockMigration()
		if lock == "" {
			return true, nil
		}
		var locked bool
		err := db.QueryRowContext(ctx, lock).Scan(&locked)
		if err != nil || !locked {
			rollback(sqldb) // no transaction waits, holding a snapshot
		}
		return locked, err
	})
}

// migrationLockPoll is how long a migration that found the migration lock
// taken waits before it tries again.
const migrationLockPoll = 100 * time.Millisecond

// pollLock calls try until it takes the migration lock, every
// migrationLockPoll while another replica holds it. A migration never
// waits for the lock inside the database: a statement waiting there holds
// a snapshot, which a CREATE INDEX CONCURRENTLY, run meanwhile by the
// replica holding the lock (see noTxDirective), would wait for in turn, a
// deadlock PostgreSQL ends by failing one of them.
func pollLock(ctx context.Context, try func() (bool, error)) error {
	for {
		locked, err := try()
		if err != nil || locked {
			return err
		}
		sleep(ctx, migrationLockPoll)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// migrationFailed is a migration's error as the store reports it, nil when
// err is.
func migrationFailed(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	return tasks.WrapError(tasks.KindOf(translate(ctx, err)), err, "migration failed")
}

// rollback ends the migration's transaction, even when its context is
// done. Closing the pool afterwards would end it anyway.
func rollback(db *sql.DB) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = db.ExecContext(ctx, "ROLLBACK")
}
