package attack

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
)

// WatchProgress counts health watches as they open.
type WatchProgress struct {
	opened, refused atomic.Int64
	refusedCode     atomic.Value // connect.Code of the last refusal
}

// Opened is how many watches got their first message.
func (p *WatchProgress) Opened() int64 { return p.opened.Load() }

// Refused is how many failed before their first message.
func (p *WatchProgress) Refused() int64 { return p.refused.Load() }

// RefusedCode is the code of the last refusal.
func (p *WatchProgress) RefusedCode() connect.Code {
	c, _ := p.refusedCode.Load().(connect.Code)
	return c
}

// HealthWatches opens n gRPC health Watch streams (no token needed) over
// client, which should speak HTTP/2, and holds the ones that open until ctx
// ends.
func HealthWatches(ctx context.Context, client *http.Client, baseURL string, n int, p *WatchProgress) {
	health := grpchealth.NewClient(client, baseURL, connect.WithGRPC())
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			first := true
			for ev := range health.Watch(ctx, &grpchealth.CheckRequest{}) {
				if !first {
					continue
				}
				first = false
				if ev.Err != nil {
					if ctx.Err() == nil {
						p.refusedCode.Store(connect.CodeOf(ev.Err))
						p.refused.Add(1)
					}
					continue
				}
				p.opened.Add(1)
			}
		})
	}
	wg.Wait()
}
