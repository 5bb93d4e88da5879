package storage

import (
	"context"
	"database/sql"
	"strconv"
	"sync"

	"github.com/uptrace/bun"
)

// maxPrepared bounds the statements a store prepares. Each is prepared
// once per pool connection (and kept by its backend): the hot ones (a get,
// the first and later pages of each order, the common filters) fit well
// within it; rarer combinations of filters run unprepared.
const maxPrepared = 128

// stmtCache holds a store's prepared statements by pool and text. A nil
// *stmtCache prepares nothing.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[stmtKey]*sql.Stmt
}

type stmtKey struct {
	db   *sql.DB
	text string
}

func newStmtCache() *stmtCache {
	return &stmtCache{stmts: make(map[stmtKey]*sql.Stmt)}
}

// get returns the statement of text prepared on db, preparing it the first
// time (database/sql prepares it again on each connection that needs it);
// nil when the cache prepares nothing or is full.
func (c *stmtCache) get(ctx context.Context, db *sql.DB, text string) (*sql.Stmt, error) {
	if c == nil {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := stmtKey{db, text}
	if st, ok := c.stmts[key]; ok {
		return st, nil
	}
	if len(c.stmts) >= maxPrepared {
		return nil, nil
	}
	// Under the lock: the first calls of a statement wait for one
	// prepare rather than each making their own.
	st, err := db.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	c.stmts[key] = st
	return st, nil
}

// close closes every statement.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, key)
	}
}

// params gathers the arguments of a statement built with bun: arg writes
// $1, $2, ... into the statement and keeps the value, in the form the
// database's driver takes it (dialect.param), so that the text is the same
// for every call and can be prepared. (PostgreSQL numbers its parameters
// so; modernc's SQLite reads $N as the N-th argument too.)
type params struct {
	d    dialect
	args []any
}

func (p *params) arg(v any) bun.Safe {
	p.args = append(p.args, p.d.param(v))
	return bun.Safe("$" + strconv.Itoa(len(p.args)))
}

// paramValues are vs as d's driver takes them (see dialect.param).
func paramValues(d dialect, vs []any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = d.param(v)
	}
	return out
}

// argList is arg of each of vs.
func (p *params) argList(vs []any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = p.arg(v)
	}
	return out
}

// read runs one read-only statement with args, alone in its message (see
// message), prepared when the store prepares statements, and hands its
// rows to scan.
func (s *Store) read(ctx context.Context, text string, args []any, scan func(*sql.Rows) error) error {
	return s.statement(ctx, s.reader, text, args, scan)
}

// writeOne runs one writing statement with args like read, on the
// writer, and returns the single int64 its first row holds: ok false when
// it returns no row or NULL.
func (s *Store) writeOne(ctx context.Context, text string, args []any) (v int64, ok bool, err error) {
	err = s.statement(ctx, s.writer, text, args, func(rows *sql.Rows) error {
		if !rows.Next() {
			return nil
		}
		var n sql.NullInt64
		if err := rows.Scan(&n); err != nil {
			return err
		}
		v, ok = n.Int64, n.Valid
		return nil
	})
	return v, ok, err
}

func (s *Store) statement(ctx context.Context, db *bun.DB, text string, args []any, scan func(*sql.Rows) error) error {
	ctx, cancel, begin := s.dialect.bound(ctx, s.cfg.StatementTimeout)
	defer cancel()
	err := s.traced(ctx, db, text, nil, func(ctx context.Context) error {
		st, err := s.stmts.get(ctx, db.DB, text)
		if err != nil {
			return err
		}
		var rows *sql.Rows
		if st != nil {
			rows, err = st.QueryContext(ctx, args...)
		} else {
			rows, err = db.DB.QueryContext(ctx, message(begin, text), args...)
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		if err := scan(rows); err != nil {
			return err
		}
		return rows.Err()
	})
	return translate(ctx, err)
}
