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

// stmtCache holds a store's prepared statements by their text. The zero
// value prepares nothing; a nil *stmtCache neither.
type stmtCache struct {
	db *sql.DB

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: make(map[string]*sql.Stmt)}
}

// get returns the prepared statement of text, preparing it the first time
// (database/sql prepares it again on each connection that needs it); nil
// when the cache prepares nothing or is full.
func (c *stmtCache) get(ctx context.Context, text string) (*sql.Stmt, error) {
	if c == nil {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[text]; ok {
		return st, nil
	}
	if len(c.stmts) >= maxPrepared {
		return nil, nil
	}
	// Under the lock: the first calls of a statement wait for one
	// prepare rather than each making their own.
	st, err := c.db.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	c.stmts[text] = st
	return st, nil
}

// close closes every statement.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for text, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, text)
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
	ctx, cancel, begin := s.dialect.bound(ctx, s.cfg.StatementTimeout)
	defer cancel()
	err := func() error {
		st, err := s.stmts.get(ctx, text)
		if err != nil {
			return err
		}
		var rows *sql.Rows
		if st != nil {
			rows, err = st.QueryContext(ctx, args...)
		} else {
			rows, err = s.reader.DB.QueryContext(ctx, message(begin, text), args...)
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		if err := scan(rows); err != nil {
			return err
		}
		return rows.Err()
	}()
	return translate(ctx, err)
}
