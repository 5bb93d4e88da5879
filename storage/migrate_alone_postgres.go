package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// migrateAlonePostgres returns how a store on PostgreSQL applies (up) or
// rolls back a migration marked noTxDirective: on a connection of target,
// the listen URL, straight to PostgreSQL, since the statements run one by
// one outside a transaction under a session-level lock, and a
// transaction-mode pooler would give each a different server connection
// (and leave the lock on one of them). sessionCheck refuses a pooler.
//
// The session is bounded by the migration timeout (statement_timeout) and
// migrationLockTimeout (lock_timeout), as other migrations are. The lock
// is the one other migrations take for their transaction, at the session
// level here: it keeps other replicas' migrations out until the migration
// is applied and recorded, in a group of its own. Under it, the migration
// is checked to be still pending (up) or still the last group (down).
func migrateAlonePostgres(target pgTarget) func(ctx context.Context, s *Store, mig migrate.Migration, up bool) ([]string, error) {
	return func(ctx context.Context, s *Store, mig migrate.Migration, up bool) (done []string, err error) {
		ctx, cancel := context.WithTimeout(ctx, s.cfg.MigrationTimeout)
		defer cancel()
		defer func() {
			if err != nil {
				err = migrationFailed(ctx, fmt.Errorf("%s (outside a transaction): %w", mig, err))
			}
		}()
		conn, err := target.connector(s.cfg.MigrationTimeout + readTimeoutMargin)
		if err != nil {
			return nil, err
		}
		sqldb := sql.OpenDB(conn)
		defer sqldb.Close()
		sqldb.SetMaxOpenConns(2) // sessionCheck's two
		direct, err := sessionCheck(ctx, sqldb)
		if err != nil {
			return nil, err
		}
		if !direct {
			return nil, errors.New("the listen URL goes through a connection pooler; " +
				"a migration outside a transaction needs a direct connection to PostgreSQL")
		}
		oneConnection(sqldb)
		db := bun.NewDB(sqldb, s.bunDialect)
		if err := lockSession(ctx, db, s.cfg.MigrationTimeout); err != nil {
			return nil, err
		}
		defer unlockSession(db)
		pid, err := backendPID(ctx, db)
		if err != nil {
			return nil, err
		}
		m := migrate.NewMigrator(db, migrationsOf(mig), migrate.WithMarkAppliedOnSuccess(true))
		if err := m.Init(ctx); err != nil {
			return nil, err
		}
		var group *migrate.MigrationGroup
		if up {
			group, err = m.Migrate(ctx)
		} else {
			group, err = rollbackAlone(ctx, m, mig)
		}
		if err != nil {
			return nil, err
		}
		// Had the connection been replaced, statements would have run
		// without the lock: make sure they did not.
		if now, err := backendPID(ctx, db); err != nil || now != pid {
			return nil, errors.Join(err, errors.New("storage: the migration's connection changed mid-migration"))
		}
		return names(group), nil
	}
}

// rollbackAlone rolls back mig if it is the last group of all: another
// replica may have rolled it back while this one waited for the lock.
func rollbackAlone(ctx context.Context, m *migrate.Migrator, mig migrate.Migration) (*migrate.MigrationGroup, error) {
	applied, err := m.AppliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	last := applied.LastGroup()
	if len(last.Migrations) != 1 || last.Migrations[0].Name != mig.Name {
		return nil, errors.New("the last group of migrations changed meanwhile; nothing was rolled back")
	}
	return m.Rollback(ctx)
}

// lockSession bounds the session's statements and takes the migration
// lock at the session level (see pollLock).
func lockSession(ctx context.Context, db bun.IDB, timeout time.Duration) error {
	for _, q := range []string{
		fmt.Sprintf("SET statement_timeout = %d", max(timeout.Milliseconds(), 1)),
		fmt.Sprintf("SET lock_timeout = %d", migrationLockTimeout.Milliseconds()),
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return pollLock(ctx, func() (bool, error) {
		var locked bool
		err := db.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?)", migrationLockKey).Scan(&locked)
		return locked, err
	})
}

// unlockSession releases lockSession's lock, even when the migration's
// context is done. Closing the connection afterwards would release it
// anyway (a session of its own ends with it).
func unlockSession(db bun.IDB) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = db.ExecContext(ctx, "SELECT pg_advisory_unlock(?)", migrationLockKey)
}

// backendPID is the PostgreSQL backend serving q's connection: a session,
// a transaction or a bun.IDB on one.
func backendPID(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int64, error) {
	var pid int64
	err := q.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid)
	return pid, err
}
