package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/example/tasks"
)

// changesChannel is the channel replicas announce their commits on (see
// notifier).
const changesChannel = "tasks_changes"

// How the listener checks that it hears: it NOTIFYs a probe through the
// store's own pool every probeEvery and expects it back within
// probeTimeout. Through a transaction-mode pooler LISTEN succeeds but
// nothing ever arrives, so only a probe can tell.
const (
	probeEvery   = 30 * time.Second
	probeTimeout = 5 * time.Second
	probePrefix  = "probe "
	// receiveSlice bounds one wait for a notification, so that the loop
	// notices ctx ending promptly.
	receiveSlice = time.Second
)

// pgListener hears other replicas' commits on PostgreSQL.
type pgListener struct {
	s  *Store
	l  CommitListener
	db *sql.DB // the listen URL's pool
	ln *pgdriver.Listener

	listening bool      // LISTEN was sent once
	hearing   bool      // the last probe came back
	warned    bool      // the failure to hear was logged
	probe     string    // the probe on its way, if any
	sentAt    time.Time // when it was sent
	due       time.Time // when the next probe is due
	polled    time.Time // when l.Missed was last called for want of hearing
}

// listenPostgres runs the listener on a connection of target until ctx
// ends.
func listenPostgres(target pgTarget) func(ctx context.Context, s *Store, l CommitListener) {
	return func(ctx context.Context, s *Store, l CommitListener) {
		conn, err := target.connector(receiveSlice + readTimeoutMargin)
		if err != nil { // checked when the store was opened
			s.cfg.Logger.Error("storage: cannot listen", "err", err)
			return
		}
		if prefer, ok := conn.(preferConnector); ok {
			conn = prefer.resolve(ctx)
		}
		// Other replicas may hear even when this one cannot.
		n := newNotifier()
		s.notifier.Store(n)
		defer s.notifier.Store(nil)
		var sending sync.WaitGroup
		defer sending.Wait()
		sendCtx, stopSending := context.WithCancel(ctx)
		defer stopSending()
		sending.Go(func() {
			n.run(sendCtx, func(ctx context.Context, payload string) error {
				ctx, cancel := context.WithTimeout(ctx, s.cfg.StatementTimeout)
				defer cancel()
				_, err := s.writer.ExecContext(ctx, "SELECT pg_notify(?, ?)", changesChannel, payload)
				return err
			})
		})

		sqldb := sql.OpenDB(conn)
		defer sqldb.Close()
		sqldb.SetMaxOpenConns(2) // the session check's two, then the listener's one
		p := &pgListener{s: s, l: l, db: sqldb}
		if !p.sessionFor(ctx) {
			return
		}
		p.ln = pgdriver.NewListener(bun.NewDB(sqldb, pgdialect.New()))
		defer p.ln.Close()
		p.run(ctx)
	}
}

// sessionFor waits until the listening connection is known to be a
// session of its own, polling meanwhile, and reports whether it is. A
// LISTEN sent through a transaction-mode pooler would stay on whichever
// server connection ran it, and the pooler would hand every later
// notification to the next client of that connection: a query of this or
// another service would fail on a message it does not expect. So nothing
// is LISTENed until sessionCheck says there is no pooler; if there is, the
// watchers poll for good.
func (p *pgListener) sessionFor(ctx context.Context) bool {
	for ctx.Err() == nil {
		direct, err := sessionCheck(ctx, p.db)
		switch {
		case err == nil && direct:
			return true
		case err == nil:
			p.deaf(time.Now(), errors.New("the listen URL goes through a connection pooler"))
			p.pollUntil(ctx, time.Time{})
			return false
		default:
			p.deaf(time.Now(), err)
			p.pollUntil(ctx, time.Now().Add(probeTimeout))
		}
	}
	return false
}

// pollUntil calls l.Missed every PollInterval until ctx ends or, when
// until is not zero, until then.
func (p *pgListener) pollUntil(ctx context.Context, until time.Time) {
	for ctx.Err() == nil && (until.IsZero() || time.Now().Before(until)) {
		p.l.Missed()
		sleep(ctx, p.s.cfg.PollInterval)
	}
}

// sessionCheck tells a connection that is a session of its own (directly
// to PostgreSQL, or through a proxy that keeps one server connection per
// client) from one through a transaction-mode pooler, which gives each
// transaction whichever server connection is free. Connection b notes its
// backend; connection c then holds a transaction open, and b asks again.
// Through a pooler c is usually given b's backend (poolers reuse the one
// freed last), or b gets another; either proves the pooler. A session of
// its own never shares its backend and always keeps it. Three rounds, all
// of which must find a session, so that a busy pooler cannot pass by luck.
func sessionCheck(ctx context.Context, db *sql.DB) (direct bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	b, err := db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer b.Close()
	for range 3 {
		first, err := backendPID(ctx, b)
		if err != nil {
			return false, err
		}
		c, err := db.Conn(ctx)
		if err != nil {
			return false, err
		}
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			c.Close()
			return false, err
		}
		other, err := backendPID(ctx, tx)
		var again int64
		if err == nil {
			again, err = backendPID(ctx, b)
		}
		_ = tx.Rollback()
		c.Close()
		if err != nil {
			return false, err
		}
		if other == first || again != first {
			return false, nil
		}
	}
	return true, nil
}

func (p *pgListener) run(ctx context.Context) {
	log := p.s.cfg.Logger
	for ctx.Err() == nil {
		now := time.Now()
		if p.probe == "" && !now.Before(p.due) {
			p.sendProbe(ctx, now)
		}
		if p.probe != "" && now.Sub(p.sentAt) > probeTimeout {
			p.deaf(now, errors.New("a probe notification did not come back"))
		}
		if !p.hearing && now.Sub(p.polled) >= p.s.cfg.PollInterval {
			p.l.Missed()
			p.polled = now
		}
		channel, payload, err := p.ln.ReceiveTimeout(ctx, receiveSlice)
		switch {
		case err != nil && isTimeout(err):
		case err != nil:
			// The connection broke; the listener reconnects (and LISTENs
			// again) on the next call. What was sent meanwhile is lost.
			p.deaf(time.Now(), err)
			p.due = time.Now() // probe the new connection at once
			if ctx.Err() == nil {
				sleep(ctx, min(p.s.cfg.PollInterval, receiveSlice))
			}
		case channel != changesChannel:
		case strings.HasPrefix(payload, probePrefix):
			if payload == probePrefix+p.probe {
				p.heard(log)
			}
		default:
			parsePayload(payload, func(user string, pos int64) {
				p.l.Committed(tasks.Commit{UserID: user, Position: pos})
			})
		}
	}
}

// sendProbe LISTENs, the first time (the listener LISTENs again by itself
// on every new connection), and NOTIFYs a new probe through the store's
// pool.
func (p *pgListener) sendProbe(ctx context.Context, now time.Time) {
	p.due = now.Add(probeEvery)
	if !p.listening {
		if err := p.ln.Listen(ctx, changesChannel); err != nil {
			p.deaf(now, err)
			p.due = now.Add(probeTimeout)
			return
		}
		p.listening = true
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	probe := hex.EncodeToString(b[:])
	if _, err := p.s.writer.ExecContext(ctx, "SELECT pg_notify(?, ?)", changesChannel, probePrefix+probe); err != nil {
		p.deaf(now, err)
		p.due = now.Add(probeTimeout)
		return
	}
	p.probe, p.sentAt = probe, now
}

// heard records that a probe came back: from here on every commit is
// heard, and whatever was committed while deaf is looked for once.
func (p *pgListener) heard(log *slog.Logger) {
	p.probe = ""
	if p.hearing {
		return
	}
	if p.warned {
		log.Info("storage: hearing of other replicas' changes again")
		p.warned = false
	}
	p.hearing = true
	p.l.Missed()
}

// deaf records that commits may go unheard, and says so in the log once.
func (p *pgListener) deaf(now time.Time, cause error) {
	p.probe = ""
	if p.hearing {
		p.l.Missed()
		p.polled = now
	}
	if !p.warned {
		p.s.cfg.Logger.Warn("storage: cannot hear of other replicas' changes (LISTEN); watchers poll instead",
			"every", p.s.cfg.PollInterval, "err", cause,
			"hint", "behind a transaction-mode pooler set DATABASE_LISTEN_URL to a direct connection")
		p.warned = true
	}
	p.hearing = false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
