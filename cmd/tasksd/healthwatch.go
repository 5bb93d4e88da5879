package main

import (
	"context"
	"sync"

	"connectrpc.com/grpchealth"

	"github.com/example/tasks"
	"github.com/example/tasks/service"
)

// limitWatches caps the health service's open Watch streams at max. Anyone
// may open one (health checks need no token) and it lasts until its client
// leaves, so without a cap a client can hold as many as it has
// connections for. Past the cap Watch answers ResourceExhausted
// (TOO_MANY_WATCHES); Check still answers.
func limitWatches(checker *grpchealth.StaticChecker, max int) grpchealth.Watcher {
	return &limitedWatches{StaticChecker: checker, slots: make(chan struct{}, max)}
}

type limitedWatches struct {
	*grpchealth.StaticChecker
	slots chan struct{}
}

func (l *limitedWatches) Watch(ctx context.Context, req *grpchealth.CheckRequest, onChange func()) (func(), error) {
	select {
	case l.slots <- struct{}{}:
	default:
		return nil, service.ConnectError(tasks.Errorf(tasks.KindTooManyWatches, "too many open health watches; call Check instead"))
	}
	stop, err := l.StaticChecker.Watch(ctx, req, onChange)
	if err != nil {
		<-l.slots
		return nil, err
	}
	return sync.OnceFunc(func() {
		stop()
		<-l.slots
	}), nil
}
