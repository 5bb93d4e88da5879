package storage

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun"
)

// maxAttempts bounds how often a transaction is tried when the database
// asks for a retry (serialization failure, deadlock) or it lost a race.
const maxAttempts = 4

type txMode int

const (
	readTx txMode = iota
	writeTx
)

// run runs fn in one transaction, bounded by the statement timeout (see
// dialect.bound), and translates its error. A transaction the database
// asks to retry is tried again, up to maxAttempts in all.
func (s *Store) run(ctx context.Context, mode txMode, fn func(ctx context.Context, tx bun.Tx) error) error {
	db := s.reader
	if mode == writeTx {
		db = s.writer
	}
	ctx, cancel, begin := s.dialect.bound(ctx, s.cfg.StatementTimeout)
	defer cancel()
	var err error
	for attempt := 1; ; attempt++ {
		err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if begin != "" {
				if _, err := tx.ExecContext(ctx, begin); err != nil {
					return err
				}
			}
			return fn(ctx, tx)
		})
		if err == nil || attempt == maxAttempts || !s.retryable(err) || ctx.Err() != nil {
			break
		}
		// Jittered backoff: 5-10ms, 10-20ms, 20-40ms.
		d := time.Duration(5<<(attempt-1)) * time.Millisecond
		d += rand.N(d)
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return translate(ctx, err)
}

// message returns the text of one message to the database: q, preceded by
// the statement that bounds it when the dialect has one. PostgreSQL runs a
// message of several statements as one implicit transaction, so "SET LOCAL
// statement_timeout = N; <q>" bounds q and ends with it: one round trip,
// instead of four for BEGIN, SET LOCAL, q and COMMIT, and no session state
// for PgBouncer to hand to another client.
func message(begin, q string) string {
	if begin == "" {
		return q
	}
	return begin + "; " + q
}

// query runs one read-only statement, alone in its message (see message),
// and scans its rows into dest (a slice).
func (s *Store) query(ctx context.Context, q *bun.SelectQuery, dest any) error {
	ctx, cancel, begin := s.dialect.bound(ctx, s.cfg.StatementTimeout)
	defer cancel()
	text := q.String()
	err := s.traced(ctx, s.reader, "", q, func(ctx context.Context) error {
		// The *sql.DB, not bun's: the text is formatted already, and bun
		// would look for placeholders in it again.
		rows, err := s.reader.DB.QueryContext(ctx, message(begin, text))
		if err != nil {
			return err
		}
		return s.reader.ScanRows(ctx, rows, dest)
	})
	return translate(ctx, err)
}
