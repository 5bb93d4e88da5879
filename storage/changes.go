package storage

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"slices"

	"github.com/uptrace/bun"

	"github.com/example/tasks"
)

// A change cursor names a place in a user's change sequence: the position
// up to which the client's copy is current, and its floor, the position
// at which a full sync that is still going on began. Deletions at or below
// the floor happened before the client's copy was taken, so forgetting
// them expires no cursor of that sync. Cursors are sealed like page tokens,
// bound to the user.
type changeCursor struct {
	pos, floor int64
}

const changeCursorLabel = "tasks change cursor"

func (k pageKey) sealCursor(userID string, c changeCursor) string {
	payload := binary.BigEndian.AppendUint64(nil, uint64(c.pos))
	payload = binary.BigEndian.AppendUint64(payload, uint64(c.floor))
	return k.sealBytes(changeCursorLabel, [][]byte{[]byte(userID)}, payload)
}

func (k pageKey) openCursor(token, userID string) (changeCursor, error) {
	payload, ok := k.openBytes(token, changeCursorLabel, [][]byte{[]byte(userID)})
	if !ok || len(payload) != 16 {
		return changeCursor{}, tasks.FieldErrorf("cursor", "invalid cursor")
	}
	c := changeCursor{
		pos:   int64(binary.BigEndian.Uint64(payload)),
		floor: int64(binary.BigEndian.Uint64(payload[8:])),
	}
	if c.pos < 0 || c.floor < 0 {
		return changeCursor{}, tasks.FieldErrorf("cursor", "invalid cursor")
	}
	return c, nil
}

// changeRow is a row of the changes query: a live task ("t"), a deleted
// one ("d", its id and number only), or the user's sequence ("u": its
// latest number in ChangeSeq, the newest forgotten deletion in Version).
type changeRow struct {
	Kind    string `bun:"kind"`
	taskRow `bun:",extend"`
}

// changesQuery selects, in one statement and so from one snapshot, up to $3
// of user $1's live tasks changed after $2, up to $3 deletions after $4,
// and the user's sequence: the same text every time, prepared once. Each part is a range scan of one user's rows on
// a (user_id, change_seq) index. Without withDeletions it leaves out the
// deletions, which a full sync has none of.
func changesQuery(d dialect, withDeletions bool) string {
	const nulls = "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
	q := "SELECT a.* FROM (SELECT 't' AS kind, t.id, t.title, t.description, t.completed, t.priority, t.tags, " +
		timeColumns(d) + ", t.version, t.change_seq " +
		"FROM tasks AS t WHERE t.user_id = $1 AND t.change_seq > $2 ORDER BY t.change_seq LIMIT $3) AS a"
	if withDeletions {
		q += " UNION ALL SELECT b.kind, b.id, " + nulls + ", b.change_seq " +
			"FROM (SELECT 'd' AS kind, d.id, d.change_seq FROM task_tombstones AS d " +
			"WHERE d.user_id = $1 AND d.change_seq > $4 ORDER BY d.change_seq LIMIT $3) AS b"
	}
	return q + " UNION ALL SELECT 'u', NULL, " + nulls[len("NULL, "):] + ", u.purged_seq, u.change_seq " +
		"FROM users AS u WHERE u.user_id = $1"
}

// ListTaskChanges returns one page of the user's changes after q.Cursor.
func (s *Store) ListTaskChanges(ctx context.Context, userID string, q tasks.ChangeQuery) (tasks.ChangePage, error) {
	if err := tasks.CheckUserID(userID); err != nil {
		return tasks.ChangePage{}, err
	}
	q, err := q.Normalize()
	if err != nil {
		return tasks.ChangePage{}, err
	}
	key, err := s.pageKey(ctx)
	if err != nil {
		return tasks.ChangePage{}, err
	}
	full := q.Cursor == ""
	var after changeCursor
	if !full {
		if after, err = key.openCursor(q.Cursor, userID); err != nil {
			return tasks.ChangePage{}, err
		}
	}
	var rows []changeRow
	query := s.reads.changes
	if full {
		query = s.reads.fullSync
	}
	args := []any{userID, after.pos, int64(q.PageSize + 1), max(after.pos, after.floor)}
	if full {
		args = args[:3]
	}
	err = s.read(ctx, query, args, func(rs *sql.Rows) error { return s.reader.ScanRows(ctx, rs, &rows) })
	if err != nil {
		return tasks.ChangePage{}, err
	}
	var latest, forgotten int64 // the user's sequence: none yet is 0, 0
	changes := rows[:0]
	for _, r := range rows {
		if r.Kind == "u" {
			latest, forgotten = r.ChangeSeq, r.Version
			continue
		}
		changes = append(changes, r)
	}
	if !full && (max(after.pos, after.floor) < forgotten || after.pos > latest) {
		// Deletions after the cursor are forgotten (or the cursor is from a
		// history the database no longer has, restored from a backup).
		return tasks.ChangePage{}, tasks.Errorf(tasks.KindCursorExpired,
			"the cursor has expired: sync again from an empty cursor")
	}
	slices.SortFunc(changes, func(a, b changeRow) int { return cmp.Compare(a.ChangeSeq, b.ChangeSeq) })

	next := changeCursor{pos: latest, floor: after.floor}
	if full {
		next.floor = latest // deletions up to here came before this copy
	}
	page := tasks.ChangePage{}
	if len(changes) > q.PageSize {
		changes = changes[:q.PageSize]
		page.HasMore = true
		next.pos = changes[len(changes)-1].ChangeSeq
	}
	page.Position = next.pos
	page.NextCursor = key.sealCursor(userID, next)
	page.Changes = make([]tasks.TaskChange, len(changes))
	for i, r := range changes {
		if r.Kind == "d" {
			page.Changes[i] = tasks.TaskChange{DeletedID: r.ID}
			continue
		}
		t := r.task()
		page.Changes[i] = tasks.TaskChange{Task: &t}
	}
	return page, nil
}

// ChangePositions returns each user's latest change number (0 for a user
// who never wrote).
func (s *Store) ChangePositions(ctx context.Context, userIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(userIDs))
	const batch = 1000
	for chunk := range slices.Chunk(userIDs, batch) {
		var rows []struct {
			UserID    string `bun:"user_id"`
			ChangeSeq int64  `bun:"change_seq"`
		}
		q := s.reader.NewSelect().TableExpr("users AS u").Column("u.user_id", "u.change_seq").
			Where("u.user_id IN (?)", bun.In(chunk))
		if err := s.query(ctx, q, &rows); err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.UserID] = r.ChangeSeq
		}
	}
	return out, nil
}
