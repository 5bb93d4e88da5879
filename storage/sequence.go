package storage

import (
	"context"

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
// the user's first write.
const bumpSQL = "INSERT INTO users (user_id, change_seq) VALUES (?0, 1) " +
	"ON CONFLICT (user_id) DO UPDATE SET change_seq = users.change_seq + 1"

// seqSQL is user ?0's latest number, as an expression: in a transaction
// after bumpSQL, the number that write took.
const seqSQL = "(SELECT u.change_seq FROM users AS u WHERE u.user_id = ?0)"

// nextSeq takes the next number of userID's sequence inside tx.
func nextSeq(ctx context.Context, tx bun.Tx, userID string) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx, bumpSQL+" RETURNING change_seq", userID).Scan(&seq)
	return seq, err
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
