package faults

import (
	"context"
	"fmt"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// Result is what Check found.
type Result struct {
	// Tasks is how many tasks the users hold; Expected how many the
	// ledgers say must be there (acknowledged and not deleted since).
	Tasks, Expected int
	// Violations say what contradicts the ledgers; none is a pass.
	Violations []string
	// Stats are the writers' calls, summed.
	Stats Stats
}

// Check reads every task of the writers' users (a full sync through
// ListTaskChanges) and compares them with the writers' ledgers. Settle
// the writers first.
func Check(ctx context.Context, cl Client, writers []*Writer) (Result, error) {
	var r Result
	byUser := map[string][]*Writer{}
	var users []string
	for _, w := range writers {
		if w.pending != nil {
			return r, fmt.Errorf("%s has a create in doubt: settle the writers first", w.name)
		}
		if byUser[w.user] == nil {
			users = append(users, w.user)
		}
		byUser[w.user] = append(byUser[w.user], w)
		r.Expected += len(w.ledger.live)
		r.Stats.Add(w.Stats)
	}
	for _, u := range users {
		ws := byUser[u]
		tasks, err := ws[0].all(ctx, cl)
		if err != nil {
			return r, fmt.Errorf("reading %s's tasks: %w", u, err)
		}
		r.Tasks += len(tasks)
		ledgers := make([]*ledger, len(ws))
		for i, w := range ws {
			ledgers[i] = &w.ledger
		}
		r.Violations = append(r.Violations, compare(ledgers, tasks)...)
	}
	return r, nil
}

// all returns every task of the writer's user: the pages of a full sync,
// applied in order (a later page may change or delete a task of an
// earlier one).
func (w *Writer) all(ctx context.Context, cl Client) ([]*tasksv1.Task, error) {
	byID := map[string]*tasksv1.Task{}
	cursor := ""
	for {
		callCtx, cancel := w.call(ctx)
		resp, err := cl.ListTaskChanges(callCtx, &tasksv1.ListTaskChangesRequest{Cursor: cursor, PageSize: 1000})
		cancel()
		if err != nil {
			return nil, err
		}
		for _, c := range resp.GetChanges() {
			if t := c.GetTask(); t != nil {
				byID[t.GetId()] = t
			} else {
				delete(byID, c.GetDeletedTaskId())
			}
		}
		if !resp.GetHasMore() {
			break
		}
		cursor = resp.GetNextCursor()
	}
	tasks := make([]*tasksv1.Task, 0, len(byID))
	for _, t := range byID {
		tasks = append(tasks, t)
	}
	return tasks, nil
}
