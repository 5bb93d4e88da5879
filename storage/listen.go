package storage

import (
	"context"
	"sync"
)

// Listen starts telling l of commits to users' tasks, and returns the
// function that stops it (and waits for it to stop). It tells l at once of
// this process's own writes (with the change), and, on PostgreSQL, of every
// replica's, through LISTEN on Config.ListenURL (each replica NOTIFYs its
// commits while it listens; see notifier). While it cannot hear of commits (the listening
// connection is down, or the URL goes through a transaction-mode pooler,
// where LISTEN cannot work) it logs that once and calls l.Missed every
// Config.PollInterval instead, and once more when it hears again. Only one
// Listen may run at a time.
func (s *Store) Listen(l CommitListener) (stop func()) {
	s.listener.Store(&l)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if s.notifications != nil {
		wg.Go(func() { s.notifications(ctx, l) })
	}
	return func() {
		cancel()
		wg.Wait()
		s.listener.Store(nil)
	}
}
