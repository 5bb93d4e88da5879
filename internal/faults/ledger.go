package faults

import (
	"fmt"
	"slices"
	"sort"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// ledger is what one writer knows the server must hold.
type ledger struct {
	// live are the acknowledged tasks not (possibly) deleted since, by id:
	// the titles the task may have. The first is the last acknowledged
	// title; the rest were sent after it with no answer, and any of them
	// may have been applied.
	live map[string][]string
	// gone were deleted with an acknowledgement: they must stay gone.
	gone map[string]bool
	// maybeGone had a deletion sent with no answer: present or not.
	maybeGone map[string]bool
}

func newLedger() ledger {
	return ledger{live: map[string][]string{}, gone: map[string]bool{}, maybeGone: map[string]bool{}}
}

// compare returns what is wrong with tasks, one user's whole list, given
// the ledgers of every writer of that user: acknowledged writes lost,
// deletions undone, titles nobody sent, and tasks no create accounts for.
func compare(ledgers []*ledger, tasks []*tasksv1.Task) []string {
	held := make(map[string]*tasksv1.Task, len(tasks))
	for _, t := range tasks {
		held[t.GetId()] = t
	}
	var wrong []string
	accounted := map[string]bool{}
	for _, l := range ledgers {
		for id, titles := range l.live {
			accounted[id] = true
			t, ok := held[id]
			switch {
			case !ok:
				wrong = append(wrong, fmt.Sprintf("task %s (%q) was acknowledged and is gone", id, titles[0]))
			case !slices.Contains(titles, t.GetTitle()):
				wrong = append(wrong, fmt.Sprintf("task %s has title %q; acknowledged %q, then sent %q", id, t.GetTitle(), titles[0], titles[1:]))
			}
		}
		for id := range l.gone {
			accounted[id] = true
			if _, ok := held[id]; ok {
				wrong = append(wrong, fmt.Sprintf("task %s was deleted with an acknowledgement and is back", id))
			}
		}
		for id := range l.maybeGone {
			accounted[id] = true
		}
	}
	for id, t := range held {
		if !accounted[id] {
			wrong = append(wrong, fmt.Sprintf("task %s (%q) was made by no acknowledged create: a create applied twice?", id, t.GetTitle()))
		}
	}
	sort.Strings(wrong)
	return wrong
}
