package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// Client is the part of the generated TaskService client the writers use.
type Client interface {
	GetTask(context.Context, *tasksv1.GetTaskRequest) (*tasksv1.GetTaskResponse, error)
	CreateTask(context.Context, *tasksv1.CreateTaskRequest) (*tasksv1.CreateTaskResponse, error)
	UpdateTask(context.Context, *tasksv1.UpdateTaskRequest) (*tasksv1.UpdateTaskResponse, error)
	DeleteTask(context.Context, *tasksv1.DeleteTaskRequest) (*tasksv1.DeleteTaskResponse, error)
	ListTaskChanges(context.Context, *tasksv1.ListTaskChangesRequest) (*tasksv1.ListTaskChangesResponse, error)
}

// callTimeout bounds each call, so a writer whose server vanished without
// closing the connection still notices.
const callTimeout = 5 * time.Second

// Writer writes as one user and keeps a ledger of the answers. Several
// writers may share a user. A Writer is not safe for concurrent use: run
// each in its own goroutine.
type Writer struct {
	user, token, name string
	rng               *rand.Rand
	n                 int
	// pending is a create that got no answer: it is sent again, with the
	// same request_id, before anything else.
	pending *tasksv1.CreateTaskRequest
	ids     []string // the keys of ledger.live, to pick from
	ledger  ledger
	// etags are the live tasks' etags as last answered; none after an
	// update in doubt.
	etags map[string]string
	// Stats counts the writer's calls.
	Stats Stats
}

// Stats count a writer's calls by outcome, and the codes of the failed
// ones.
type Stats struct {
	Acked, InDoubt int
	// Replayed counts creates in doubt that had been made: sent again,
	// they were answered with a task created before the last sending. The
	// request_id promise is tested only when it is above zero.
	Replayed int
	Codes    map[connect.Code]int
}

// Add adds o's counts to s.
func (s *Stats) Add(o Stats) {
	s.Acked += o.Acked
	s.InDoubt += o.InDoubt
	s.Replayed += o.Replayed
	for c, n := range o.Codes {
		if s.Codes == nil {
			s.Codes = map[connect.Code]int{}
		}
		s.Codes[c] += n
	}
}

// NewWriter returns a writer for user, calling with token; name (unique
// among the writers) prefixes its titles, and seed makes its choices.
func NewWriter(user, token, name string, seed uint64) *Writer {
	return &Writer{user: user, token: token, name: name, rng: rand.New(rand.NewPCG(seed, 0)), ledger: newLedger(), etags: map[string]string{}}
}

// Run calls until ctx ends or a call goes unanswered (the server is gone:
// the caller restarts it and runs the writer again). It returns the first
// unanswered call's error, nil when ctx ended, or a *Violation when an
// answer contradicts the ledger.
func (w *Writer) Run(ctx context.Context, cl Client) error {
	for ctx.Err() == nil {
		if err := w.step(ctx, cl); err != nil {
			if ctx.Err() != nil && !IsViolation(err) {
				return nil
			}
			return err
		}
	}
	return nil
}

// Settle sends a pending create until it is answered, or ctx ends: before
// Check, so that every create is either acknowledged or was never made.
func (w *Writer) Settle(ctx context.Context, cl Client) error {
	for w.pending != nil {
		if err := w.create(ctx, cl); err != nil {
			if IsViolation(err) {
				return err
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s: create %s still unanswered: %w", w.name, w.pending.GetRequestId(), err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// step makes one call: the pending create, else a create (always while the
// writer has few tasks), an update of a new title or a deletion.
func (w *Writer) step(ctx context.Context, cl Client) error {
	switch r := w.rng.IntN(10); {
	case w.pending != nil || len(w.ids) < 4 || r < 5:
		return w.create(ctx, cl)
	case r < 8:
		return w.update(ctx, cl)
	default:
		return w.delete(ctx, cl)
	}
}

func (w *Writer) title(kind byte) string {
	w.n++
	return fmt.Sprintf("%s-%c%06d", w.name, kind, w.n)
}

func (w *Writer) create(ctx context.Context, cl Client) error {
	if w.pending == nil {
		w.pending = &tasksv1.CreateTaskRequest{Title: w.title('c'), RequestId: uuid.NewString()}
	}
	req := w.pending
	ctx, cancel := w.call(ctx)
	defer cancel()
	sent := time.Now()
	resp, err := cl.CreateTask(ctx, req)
	if err != nil {
		if connect.CodeOf(err) == connect.CodeNotFound {
			return w.violation("create %s (%q), sent again after no answer, is NotFound", req.GetRequestId(), req.GetTitle())
		}
		return w.inDoubt(err)
	}
	w.Stats.Acked++
	t := resp.GetTask()
	if t.GetCreateTime().AsTime().Before(sent) {
		w.Stats.Replayed++
	}
	if t.GetTitle() != req.GetTitle() {
		return w.violation("create %s answered title %q, sent %q", req.GetRequestId(), t.GetTitle(), req.GetTitle())
	}
	if _, dup := w.ledger.live[t.GetId()]; dup {
		return w.violation("create %s answered task %s, which an earlier create made", req.GetRequestId(), t.GetId())
	}
	w.pending = nil
	w.ledger.live[t.GetId()] = []string{t.GetTitle()}
	w.etags[t.GetId()] = t.GetEtag()
	w.ids = append(w.ids, t.GetId())
	return nil
}

// update gives a random task a new title, on the condition of its etag,
// so that an update in doubt can never apply after a later one (it would
// find its etag stale). Unanswered, the title joins those the task may
// have, and the task is read again before its next update; answered, it is
// the only one.
func (w *Writer) update(ctx context.Context, cl Client) error {
	id := w.ids[w.rng.IntN(len(w.ids))]
	if w.etags[id] == "" {
		return w.reread(ctx, cl, id)
	}
	title := w.title('u')
	ctx, cancel := w.call(ctx)
	defer cancel()
	resp, err := cl.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: id, Title: &title, Etag: w.etags[id]})
	switch code := connect.CodeOf(err); {
	case err == nil:
	case code == connect.CodeNotFound:
		return w.violation("update of task %s, acknowledged as created, is NotFound", id)
	case code == connect.CodeAborted:
		// Refused, changing nothing: an update in doubt had applied.
		w.Stats.Acked++
		w.etags[id] = ""
		return nil
	default:
		w.ledger.live[id] = append(w.ledger.live[id], title)
		w.etags[id] = ""
		return w.inDoubt(err)
	}
	w.Stats.Acked++
	if got := resp.GetTask().GetTitle(); got != title {
		return w.violation("update of task %s answered title %q, sent %q", id, got, title)
	}
	w.ledger.live[id] = []string{title}
	w.etags[id] = resp.GetTask().GetEtag()
	return nil
}

// reread reads a task whose etag an update in doubt left unknown: its
// title must be one the ledger allows, and becomes the only one.
func (w *Writer) reread(ctx context.Context, cl Client, id string) error {
	ctx, cancel := w.call(ctx)
	defer cancel()
	resp, err := cl.GetTask(ctx, &tasksv1.GetTaskRequest{Id: id})
	switch {
	case connect.CodeOf(err) == connect.CodeNotFound:
		return w.violation("task %s, acknowledged as created, is NotFound", id)
	case err != nil:
		return w.inDoubt(err)
	}
	w.Stats.Acked++
	t := resp.GetTask()
	if !slices.Contains(w.ledger.live[id], t.GetTitle()) {
		return w.violation("task %s has title %q; acknowledged %q, then sent %q", id, t.GetTitle(), w.ledger.live[id][0], w.ledger.live[id][1:])
	}
	w.ledger.live[id] = []string{t.GetTitle()}
	w.etags[id] = t.GetEtag()
	return nil
}

// delete deletes a random task. Unanswered, the task may or may not be
// there; either way the writer leaves it alone from then on.
func (w *Writer) delete(ctx context.Context, cl Client) error {
	i := w.rng.IntN(len(w.ids))
	id := w.ids[i]
	w.ids[i] = w.ids[len(w.ids)-1]
	w.ids = w.ids[:len(w.ids)-1]
	delete(w.ledger.live, id)
	delete(w.etags, id)
	ctx, cancel := w.call(ctx)
	defer cancel()
	_, err := cl.DeleteTask(ctx, &tasksv1.DeleteTaskRequest{Id: id})
	if err != nil {
		if connect.CodeOf(err) == connect.CodeNotFound {
			return w.violation("deletion of task %s, acknowledged as created, is NotFound", id)
		}
		w.ledger.maybeGone[id] = true
		return w.inDoubt(err)
	}
	w.Stats.Acked++
	w.ledger.gone[id] = true
	return nil
}

// call is ctx with the writer's token and the call timeout.
func (w *Writer) call(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	ctx, info := connect.NewClientContext(ctx)
	info.RequestHeader().Set("Authorization", "Bearer "+w.token)
	return ctx, cancel
}

// inDoubt counts a call that got no answer, which is what every failure
// is taken to be: the writer cannot tell whether it happened.
func (w *Writer) inDoubt(err error) error {
	w.Stats.InDoubt++
	if w.Stats.Codes == nil {
		w.Stats.Codes = map[connect.Code]int{}
	}
	w.Stats.Codes[connect.CodeOf(err)]++
	return err
}

// Violation is an answer or a final state that contradicts a ledger.
type Violation struct{ msg string }

func (v *Violation) Error() string { return v.msg }

func (w *Writer) violation(format string, args ...any) error {
	return &Violation{w.name + ": " + fmt.Sprintf(format, args...)}
}

// IsViolation reports whether err is a Violation: a broken promise, not
// a call in doubt.
func IsViolation(err error) bool {
	var v *Violation
	return errors.As(err, &v)
}
