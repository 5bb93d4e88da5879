package faults

import (
	"strings"
	"testing"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

func task(id, title string) *tasksv1.Task { return &tasksv1.Task{Id: id, Title: title} }

// testLedger: a acknowledged as "a1", then "a2" sent with no answer; b
// acknowledged as "b1"; c deleted with an answer; d deleted without one.
func testLedger() *ledger {
	l := newLedger()
	l.live["a"] = []string{"a1", "a2"}
	l.live["b"] = []string{"b1"}
	l.gone["c"] = true
	l.maybeGone["d"] = true
	return &l
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tasks []*tasksv1.Task
		want  string // in the one violation; "" for none
	}{
		{"as acknowledged", []*tasksv1.Task{task("a", "a1"), task("b", "b1")}, ""},
		{"a title sent without an answer", []*tasksv1.Task{task("a", "a2"), task("b", "b1")}, ""},
		{"a deletion without an answer that happened not", []*tasksv1.Task{task("a", "a1"), task("b", "b1"), task("d", "d1")}, ""},
		{"an acknowledged create lost", []*tasksv1.Task{task("a", "a1")}, "task b (\"b1\") was acknowledged and is gone"},
		{"an acknowledged update lost", []*tasksv1.Task{task("a", "a0"), task("b", "b1")}, "task a has title \"a0\""},
		{"an acknowledged deletion undone", []*tasksv1.Task{task("a", "a1"), task("b", "b1"), task("c", "c1")}, "task c was deleted with an acknowledgement and is back"},
		{"a task no create accounts for", []*tasksv1.Task{task("a", "a1"), task("b", "b1"), task("e", "b1")}, "task e (\"b1\") was made by no acknowledged create"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := compare([]*ledger{testLedger()}, tc.tasks)
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("violations %q, want none", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Fatalf("violations %q, want one saying %q", got, tc.want)
			}
		})
	}
}

// Writers sharing a user account for each other's tasks.
func TestCompareSharedUser(t *testing.T) {
	other := newLedger()
	other.live["x"] = []string{"x1"}
	got := compare([]*ledger{testLedger(), &other}, []*tasksv1.Task{task("a", "a1"), task("b", "b1"), task("x", "x1")})
	if len(got) != 0 {
		t.Fatalf("violations %q, want none", got)
	}
}
