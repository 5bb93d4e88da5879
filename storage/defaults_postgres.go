package storage

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// clientCheckInterval is how often a PostgreSQL backend running a
// statement checks that its client is still there
// (client_connection_check_interval, PostgreSQL 14+).
const clientCheckInterval = time.Second

// sessionDefaults are the settings every session of the store's role in
// its database starts with: what a "SET LOCAL statement_timeout" in front
// of every statement used to give, without its round trip or its parse, so
// statements can be prepared once and reused.
//
//   - statement_timeout: the database stops working on a statement nobody
//     waits for any more, lock waits included.
//   - idle_in_transaction_session_timeout: a transaction whose client
//     stalled (or vanished without closing its socket) ends, and with it
//     the row locks it holds.
//   - client_connection_check_interval: a call whose deadline passes
//     before the statement timeout has its socket closed by pgdriver; the
//     backend notices within this interval and stops, rather than finishing
//     work (or waiting for a lock) for no one.
func sessionDefaults(timeout time.Duration) [][2]string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%dms", max(d.Milliseconds(), 1)) }
	return [][2]string{
		{"statement_timeout", ms(timeout)},
		{"idle_in_transaction_session_timeout", ms(timeout + readTimeoutMargin)},
		{"client_connection_check_interval", ms(clientCheckInterval)},
	}
}

// setDefaults makes sessionDefaults the defaults of the current role in the
// current database (ALTER ROLE … IN DATABASE … SET: a role may always set
// its own; other roles and databases are left alone), changing only what
// differs, and reports whether it changed any. They apply to sessions that
// start afterwards. Role settings rather than startup parameters, which
// PgBouncer refuses, or session SETs, which a transaction-mode pooler would
// hand to other clients.
func (postgresDialect) setDefaults(ctx context.Context, db bun.IDB, timeout time.Duration) (bool, error) {
	var have []string
	err := db.QueryRowContext(ctx, "SELECT coalesce((SELECT s.setconfig FROM pg_db_role_setting AS s "+
		"WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) "+
		"AND s.setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)), '{}')").Scan(pgdialect.Array(&have))
	if err != nil {
		return false, err
	}
	changed := false
	for _, kv := range sessionDefaults(timeout) {
		if slices.Contains(have, kv[0]+"="+kv[1]) {
			continue
		}
		// The role and database are named by format(), in one statement
		// so that it works through a transaction-mode pooler; the name
		// and value are ours.
		q := fmt.Sprintf("DO $$ BEGIN EXECUTE format('ALTER ROLE %%I IN DATABASE %%I SET %s = %%L', "+
			"current_user, current_database(), '%s'); END $$", kv[0], kv[1])
		if _, err := db.ExecContext(ctx, q); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}
