package storage

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/uptrace/bun/driver/pgdriver"
)

// stmtConnector hands database/sql connections whose prepared statements
// close their connection when one fails other than by the server's
// answer: a deadline passing mid-read, a broken socket. pgdriver v1.2.18
// does so for plain queries but not for prepared statements, whose
// connection would go back to the pool with half an answer still unread,
// to be read as the next call's.
type stmtConnector struct{ driver.Connector }

func (c stmtConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := cn.(*pgdriver.Conn)
	if !ok {
		return cn, nil
	}
	return stmtConn{pc}, nil
}

// stmtConn is a pgdriver connection; every method but PrepareContext is
// pgdriver's own.
type stmtConn struct{ *pgdriver.Conn }

func (c stmtConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, c.check(err)
	}
	return checkedStmt{st, c}, nil
}

// check closes the connection unless err is an error the server sent,
// after which the protocol is in step again; database/sql then discards it
// (driver.Validator). It returns err.
func (c stmtConn) check(err error) error {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || pgErr.Field('V') == "FATAL" || pgErr.Field('V') == "PANIC" {
		_ = c.Conn.Close()
	}
	return err
}

// checkedStmt is a pgdriver statement whose failures check its connection.
type checkedStmt struct {
	driver.Stmt
	cn stmtConn
}

func (s checkedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	res, err := s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	if err != nil {
		return nil, s.cn.check(err)
	}
	return res, nil
}

func (s checkedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, s.cn.check(err)
	}
	return rows, nil
}
