package service

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/example/tasks"
)

// WatchConfig bounds and paces the watches of one replica (API.md, "Sync").
type WatchConfig struct {
	MaxPerUser  int           // open watches of one user (WATCH_MAX_PER_USER); default 16
	Max         int           // open watches in all (WATCH_MAX); default 10,000
	Heartbeat   time.Duration // quiet before a heartbeat (WATCH_HEARTBEAT); default 15 s
	MaxDuration time.Duration // how long a watch may stay open (WATCH_MAX_DURATION); default 30 min
	// Recheck is how often the hub asks the store where its watched users
	// are, in case a wake-up was lost; default 5 s.
	Recheck time.Duration
}

func (c WatchConfig) withDefaults() WatchConfig {
	if c.MaxPerUser <= 0 {
		c.MaxPerUser = 16
	}
	if c.Max <= 0 {
		c.Max = 10_000
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.MaxDuration <= 0 {
		c.MaxDuration = 30 * time.Minute
	}
	if c.Recheck <= 0 {
		c.Recheck = 5 * time.Second
	}
	return c
}

// positions is what the hub needs of the store.
type positions interface {
	ChangePositions(ctx context.Context, userIDs []string) (map[string]int64, error)
}

// WatchHub wakes the watches of a user when the user's tasks change. It
// hears of commits (Committed, from the store's Listen) and, in case one
// went unheard, asks the store where its watched users are, every
// Recheck and whenever told it missed some (Missed). A wake-up is only a
// signal: each watch reads what changed from the store, after its own
// cursor, so a lost, repeated or late wake-up never loses or repeats a
// change, and a slow watch holds up nobody but itself.
type WatchHub struct {
	store  positions
	cfg    WatchConfig
	logger *slog.Logger

	recheck chan struct{} // a recheck is wanted (capacity 1)
	closing chan struct{} // closed by Close

	mu     sync.Mutex
	users  map[string]*userWatches
	total  int
	closed bool
}

// userWatches are the open watches of one user.
type userWatches struct {
	watches map[*watch]struct{}
}

// NewWatchHub returns a hub over store. Run its recheck loop with Run, and
// Close it before shutting the server down.
func NewWatchHub(store positions, cfg WatchConfig, logger *slog.Logger) *WatchHub {
	return &WatchHub{
		store:   store,
		cfg:     cfg.withDefaults(),
		logger:  logger,
		recheck: make(chan struct{}, 1),
		closing: make(chan struct{}),
		users:   make(map[string]*userWatches),
	}
}

// Committed wakes those of the user's watches that have not read up to
// c.Position. Each watch keeps its own position: two watches of one user
// (two tabs, or a reconnect) read at their own pace, and one reading a
// change before it is announced must not make the announcement news to
// nobody. A watch exactly one change behind is handed the change, when c
// carries it, and sends it without reading it back.
func (h *WatchHub) Committed(c tasks.Commit) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[c.UserID]
	if u == nil {
		return
	}
	for w := range u.watches {
		switch {
		case c.Position <= w.position:
			continue
		case c.Change != nil && c.Position == w.position+1 && w.direct == nil:
			w.direct = &c
		default:
			w.read = true
		}
		w.signal()
	}
}

// Missed asks for a recheck of every watched user.
func (h *WatchHub) Missed() {
	select {
	case h.recheck <- struct{}{}:
	default:
	}
}

// Run rechecks the watched users every Recheck and when asked, until ctx
// ends.
func (h *WatchHub) Run(ctx context.Context) {
	t := time.NewTicker(h.cfg.Recheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.recheck:
		}
		h.checkAll(ctx)
	}
}

// checkAll asks the store where every watched user is.
func (h *WatchHub) checkAll(ctx context.Context) {
	h.mu.Lock()
	users := make([]string, 0, len(h.users))
	for u := range h.users {
		users = append(users, u)
	}
	h.mu.Unlock()
	if len(users) == 0 {
		return
	}
	slices.Sort(users)
	pos, err := h.store.ChangePositions(ctx, users)
	if err != nil {
		// The store cannot say: every watch looks for itself, and those
		// that cannot read either end Unavailable, so their clients resume
		// (from their cursors, losing nothing) once it is back.
		h.logger.Debug("watch: rechecking positions", "err", err)
		h.wakeAll()
		return
	}
	for u, p := range pos {
		h.Committed(tasks.Commit{UserID: u, Position: p})
	}
}

func (h *WatchHub) wakeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, u := range h.users {
		for w := range u.watches {
			w.read = true
			w.signal()
		}
	}
}

// Close ends every watch (each answers Unavailable, so clients reconnect
// to another replica) and refuses new ones.
func (h *WatchHub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.closing)
	}
}

// Open returns the number of open watches.
func (h *WatchHub) Open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

// open registers a watch of userID, within the limits.
func (h *WatchHub) open(userID string) (*watch, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[userID]
	switch {
	case h.closed:
		return nil, errShuttingDown()
	case h.total >= h.cfg.Max:
		return nil, tasks.Errorf(tasks.KindTooManyWatches, "this server has as many open watches as it allows; try again later")
	case u != nil && len(u.watches) >= h.cfg.MaxPerUser:
		return nil, tasks.Errorf(tasks.KindTooManyWatches, "at most %d open watches per user", h.cfg.MaxPerUser)
	}
	if u == nil {
		u = &userWatches{watches: make(map[*watch]struct{})}
		h.users[userID] = u
	}
	w := &watch{hub: h, user: userID, wake: make(chan struct{}, 1)}
	u.watches[w] = struct{}{}
	h.total++
	return w, nil
}

func errShuttingDown() error {
	return tasks.Errorf(tasks.KindUnavailable, "the server is shutting down; reconnect")
}

// watch is one open watch's registration.
type watch struct {
	hub  *WatchHub
	user string
	wake chan struct{} // a signal that the user's tasks changed (capacity 1)

	// Under hub.mu:
	position int64         // what the watch has sent up to
	direct   *tasks.Commit // the change just after position, to send as is
	read     bool          // there is more than direct: read from the store
}

func (w *watch) signal() {
	select {
	case w.wake <- struct{}{}:
	default: // already signalled: one read covers both
	}
}

// next takes what a wake-up brought: a change to send as is, and whether
// to read from the store (after sending it).
func (w *watch) next() (direct *tasks.Commit, read bool) {
	w.hub.mu.Lock()
	defer w.hub.mu.Unlock()
	direct, read = w.direct, w.read
	w.direct, w.read = nil, false
	if direct != nil && direct.Position != w.position+1 {
		direct, read = nil, true // overtaken by a read meanwhile
	}
	return direct, read
}

// seen records that the watch has sent up to position, so announcements
// and rechecks do not wake it for what it has.
func (w *watch) seen(position int64) {
	w.hub.mu.Lock()
	defer w.hub.mu.Unlock()
	w.position = max(w.position, position)
}

// close removes the registration.
func (w *watch) close() {
	h := w.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[w.user]
	if _, ok := u.watches[w]; !ok {
		return
	}
	delete(u.watches, w)
	h.total--
	if len(u.watches) == 0 {
		delete(h.users, w.user)
	}
}
