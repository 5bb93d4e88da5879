package storage

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxPayload keeps a NOTIFY payload under PostgreSQL's limit of 8000 bytes.
const maxPayload = 7900

// notifyGather is how long the notifier lets commits gather before it
// sends them: under load one NOTIFY then carries many (each is a statement
// and a commit of its own), for a few milliseconds more on the way to
// other replicas.
const notifyGather = 5 * time.Millisecond

// notifier tells other replicas of this process's commits: NOTIFYs on
// changesChannel, sent after the commits by one goroutine, each carrying
// every commit made since the last ("<number> <user id>" lines; a user's
// latest number only). A NOTIFY inside each writing transaction (a
// trigger) would announce it in the same commit, but PostgreSQL serialises
// the commits of all transactions that NOTIFY: with that trigger a create
// cost 2.7 times as much (BENCHMARKS.md). A commit whose notification is
// lost, because the process stopped in between, is found by the watchers'
// periodic recheck.
type notifier struct {
	mu      sync.Mutex
	pending map[string]int64
	wake    chan struct{}
}

func newNotifier() *notifier {
	return &notifier{pending: make(map[string]int64), wake: make(chan struct{}, 1)}
}

// add queues a commit to be announced.
func (n *notifier) add(userID string, pos int64) {
	n.mu.Lock()
	n.pending[userID] = max(n.pending[userID], pos)
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// run sends what is queued until ctx ends, a batch at a time.
func (n *notifier) run(ctx context.Context, send func(ctx context.Context, payload string) error) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		}
		sleep(ctx, notifyGather)
		n.mu.Lock()
		batch := n.pending
		n.pending = make(map[string]int64, len(batch))
		n.mu.Unlock()
		for _, payload := range payloads(batch) {
			_ = send(ctx, payload) // lost: the watchers' recheck finds it
		}
	}
}

// payloads packs commits into NOTIFY payloads of at most maxPayload bytes.
func payloads(batch map[string]int64) []string {
	var out []string
	var b strings.Builder
	for user, pos := range batch {
		line := strconv.FormatInt(pos, 10) + " " + user
		if b.Len() > 0 && b.Len()+1+len(line) > maxPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// parsePayload reads the commits of a payload, skipping what it cannot
// read.
func parsePayload(payload string, commit func(userID string, pos int64)) {
	for line := range strings.Lines(payload) {
		pos, user, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		if n, err := strconv.ParseInt(pos, 10, 64); ok && err == nil && user != "" {
			commit(user, n)
		}
	}
}
