package main

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"connectrpc.com/grpchealth"

	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
)

// healthMonitor pings the database in the background and reports the
// result to the gRPC health service and /readyz, so probes cost nothing and
// every replica's answer follows its own database connection.
type healthMonitor struct {
	ping     func(context.Context) error
	interval time.Duration
	logger   *slog.Logger
	checker  *grpchealth.StaticChecker
	up       atomic.Bool
}

func newHealthMonitor(ping func(context.Context) error, interval time.Duration, logger *slog.Logger) *healthMonitor {
	m := &healthMonitor{
		ping:     ping,
		interval: interval,
		logger:   logger,
		checker:  grpchealth.NewStaticChecker(tasksv1connect.TaskServiceName),
	}
	m.set(false)
	return m
}

// run pings until ctx ends, starting with one ping right away.
func (m *healthMonitor) run(ctx context.Context) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		m.check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *healthMonitor) check(ctx context.Context) {
	pingCtx, cancel := context.WithTimeout(ctx, m.interval)
	defer cancel()
	err := m.ping(pingCtx)
	if ctx.Err() != nil {
		return // shutting down: the caller reports that
	}
	up := err == nil
	if up != m.up.Load() {
		if up {
			m.logger.Info("database reachable")
		} else {
			m.logger.Warn("database unreachable", "error", err)
		}
	}
	m.set(up)
}

// set records the database state for both the health service and /readyz.
func (m *healthMonitor) set(up bool) {
	m.up.Store(up)
	status := grpchealth.StatusNotServing
	if up {
		status = grpchealth.StatusServing
	}
	m.checker.SetStatus("", status)
	m.checker.SetStatus(tasksv1connect.TaskServiceName, status)
}

func (m *healthMonitor) ready() bool { return m.up.Load() }
