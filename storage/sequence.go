package storage

import (
	"context"
	"database/sql"
	"errors"

	"github.com/uptrace/bun"

	"github.com/example/tasks"
)

// Every write to a user's tasks takes the next number of the user's change
// sequence (users.change_seq) in its transaction. Updating the user's row
// holds its lock until the transaction ends, so one user's writes commit
// one after the other and their numbers are in commit order: a reader that
// has seen number n never later sees a new change numbered below n. A
// write that turns out to change nothing rolls back, its number with it.

// bumpSQL takes the next number of user ?0's sequence, creating the row on
// the user's first write, and returns it.
const bumpSQL = "INSERT INTO users (user_id, change_seq) VALUES (?0, 1) " +
	"ON CONFLICT (user_id) DO UPDATE SET change_seq = users.change_seq + 1 RETURNING change_seq"

// The user's row also counts the user's tasks (users.task_count), for the
// quota: every create and delete keeps it in the same update that takes
// its number, so it costs no statement of its own and, the row locked,
// one user's creates check it one after the other. (On PostgreSQL the
// functions tasks_create and tasks_delete do the same.)

// createSeqSQL is bumpSQL for a create, which also takes a place in the
// count: unless the user has ?1 tasks already (?1 > 0), when it changes
// nothing and returns no row.
const createSeqSQL = "INSERT INTO users (user_id, change_seq, task_count) VALUES (?0, 1, 1) " +
	"ON CONFLICT (user_id) DO UPDATE SET change_seq = users.change_seq + 1, task_count = users.task_count + 1 " +
	"WHERE ?1 <= 0 OR users.task_count < ?1 RETURNING change_seq"

// deleteSeqSQL is bumpSQL for a delete, which gives the task's place back.
// The row is there: the task's create made it.
const deleteSeqSQL = "UPDATE users SET change_seq = change_seq + 1, task_count = task_count - 1 " +
	"WHERE user_id = ?0 RETURNING change_seq"

// nextSeq takes the next number of userID's sequence inside tx, for a
// write that neither adds nor removes a task.
func nextSeq(ctx context.Context, tx bun.Tx, userID string) (int64, error) {
	seq, _, err := takeSeq(ctx, tx, bumpSQL, userID)
	return seq, err
}

// takeSeq runs q (bumpSQL, createSeqSQL or deleteSeqSQL) with args inside
// tx and returns the number it took: ok false when it took none.
func takeSeq(ctx context.Context, tx bun.Tx, q string, args ...any) (seq int64, ok bool, err error) {
	err = tx.QueryRowContext(ctx, q, args...).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return seq, err == nil, err
}

// CommitListener hears of commits to users' tasks: see Store.Listen.
type CommitListener interface {
	// Committed says that userID's tasks changed up to c.Position (with
	// the change itself when the commit was this process's). Calls may
	// repeat, arrive out of order or be missed; a listener only wakes
	// whoever reads the changes from the store.
	Committed(c tasks.Commit)
	// Missed says that commits may have gone unannounced (notifications
	// were interrupted, or cannot be had): whoever waits for changes should
	// look for them.
	Missed()
}

// committed announces a write of this process once it has committed: at
// once to this process's listener, with the change, and to other
// replicas through the database (see Listen).
func (s *Store) committed(userID string, seq int64, change tasks.TaskChange) {
	l := s.listener.Load()
	if l == nil {
		return
	}
	c := tasks.Commit{UserID: userID, Position: seq}
	if cursor := s.cursorAt(userID, seq); cursor != "" {
		c.Change, c.Cursor = &change, cursor
	}
	(*l).Committed(c)
	if n := s.notifier.Load(); n != nil {
		n.add(userID, seq)
	}
}

// cursorAt is the cursor that covers userID's changes up to pos, or "" if
// the key to seal it is not loaded yet.
func (s *Store) cursorAt(userID string, pos int64) string {
	s.keyMu.Lock()
	key := pageKey(s.key)
	s.keyMu.Unlock()
	if key == nil {
		return ""
	}
	return key.sealCursor(userID, changeCursor{pos: pos})
}
