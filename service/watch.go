package service

import (
	"context"
	"time"

	"connectrpc.com/connect"

	"github.com/example/tasks"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// watchBatch is the most changes one WatchTasks message carries.
const watchBatch = 100

// WatchTasks implements tasks.v1.TaskService: it sends what ListTaskChanges
// would from the cursor, then each change as the hub says the user's tasks
// changed, and a heartbeat after a quiet spell. It ends when the client
// goes, the caller's token expires (Unauthenticated), the watch has been
// open for WatchConfig.MaxDuration or the server shuts down (Unavailable).
func (h *taskService) WatchTasks(ctx context.Context, req *tasksv1.WatchTasksRequest, stream *connect.ServerStream[tasksv1.WatchTasksResponse]) error {
	user, err := callerUser(ctx)
	if err != nil {
		return err
	}
	if h.watches == nil {
		return connect.NewError(connect.CodeUnimplemented, nil)
	}
	// Registered before the first read, so that no change committed after
	// that read goes unannounced.
	w, err := h.watches.open(user.ID)
	if err != nil {
		return err
	}
	defer w.close()

	cursor, _, err := h.sendChanges(ctx, stream, w, req.GetCursor(), true)
	if err != nil {
		return err
	}
	heartbeat := time.NewTimer(h.watches.cfg.Heartbeat)
	defer heartbeat.Stop()
	longest := time.NewTimer(h.watches.cfg.MaxDuration)
	defer longest.Stop()
	var expired <-chan time.Time
	if !user.Expires.IsZero() {
		t := time.NewTimer(time.Until(user.Expires))
		defer t.Stop()
		expired = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.watches.closing:
			return errShuttingDown()
		case <-longest.C:
			return tasks.Errorf(tasks.KindUnavailable, "the watch has been open as long as a watch may be; reconnect")
		case <-expired:
			return tasks.Errorf(tasks.KindUnauthenticated, "token expired")
		case <-heartbeat.C:
			if err := stream.Send(&tasksv1.WatchTasksResponse{Cursor: cursor}); err != nil {
				return err
			}
			heartbeat.Reset(h.watches.cfg.Heartbeat)
		case <-w.wake:
			var sent bool
			if cursor, sent, err = h.deliver(ctx, stream, w, cursor); err != nil {
				return err
			}
			if sent {
				heartbeat.Reset(h.watches.cfg.Heartbeat)
			}
		}
	}
}

// deliver sends what a wake-up brought: the change handed over by the
// hub, as is, and then, when there is more, what a read finds after the
// cursor. It returns the cursor after what it sent, and whether it sent
// anything.
func (h *taskService) deliver(ctx context.Context, stream *connect.ServerStream[tasksv1.WatchTasksResponse], w *watch, cursor string) (string, bool, error) {
	direct, read := w.next()
	sent := false
	if direct != nil {
		// Seen before it is sent, as reads are: the next change may be
		// announced the moment the client has this one.
		w.seen(direct.Position)
		changes := []tasks.TaskChange{*direct.Change}
		msg := &tasksv1.WatchTasksResponse{Changes: h.wireChanges(ctx, changes), Cursor: direct.Cursor}
		if err := stream.Send(msg); err != nil {
			return cursor, false, err
		}
		h.telemetry.watchDelivered(ctx, changes)
		cursor, sent = direct.Cursor, true
	}
	if !read {
		return cursor, sent, nil
	}
	cursor, more, err := h.sendChanges(ctx, stream, w, cursor, false)
	return cursor, sent || more, err
}

// sendChanges sends the changes after cursor, a message per watchBatch,
// and returns the cursor after them and whether it sent anything. With
// first it sends a message even when there is nothing to send, so the
// client learns where it stands.
func (h *taskService) sendChanges(ctx context.Context, stream *connect.ServerStream[tasksv1.WatchTasksResponse], w *watch, cursor string, first bool) (string, bool, error) {
	sent := false
	for {
		page, err := h.store.ListTaskChanges(ctx, w.user, tasks.ChangeQuery{Cursor: cursor, PageSize: watchBatch})
		if err != nil {
			return cursor, sent, err
		}
		w.seen(page.Position)
		cursor = page.NextCursor
		if len(page.Changes) > 0 || (first && !sent) {
			if err := stream.Send(&tasksv1.WatchTasksResponse{Changes: h.wireChanges(ctx, page.Changes), Cursor: cursor}); err != nil {
				return cursor, sent, err
			}
			if !first {
				// What the first read sends is history, not news: how
				// late it is says nothing of delivery.
				h.telemetry.watchDelivered(ctx, page.Changes)
			}
			sent = true
		}
		if !page.HasMore {
			return cursor, sent, nil
		}
	}
}
