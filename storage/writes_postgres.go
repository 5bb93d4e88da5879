package storage

// On PostgreSQL each write is one prepared statement: one round trip, no
// transaction of the store's own. Each takes the user's row lock (the next
// number of its change sequence) before the task's, the same order in all
// three, so two writes never wait for each other in a cycle. SQLite, with
// one writer and no data-modifying WITH, runs the same steps as a
// transaction (tasks.go).

// oneCallWrites are the statements of the writes that take one call.
type oneCallWrites struct {
	// create stores a task: the arguments are taskRow.createArgs; it
	// returns the number the task took, or NULL when it stored nothing
	// (see the tasks_create function's migrations).
	create string
	// update writes a task's new values ($4...$11, see updateArgs) if its
	// version is still $3, taking the next number; it returns the number,
	// or no row when the version moved on or the task is gone.
	update string
	// delete deletes a task ($2), with $3 > 0 only while its version is
	// $3, and leaves its tombstone, deleted at $4; it returns the number
	// the deletion took, or NULL when it deleted nothing (see the
	// tasks_delete function's migration).
	delete string
}

var postgresWrites = &oneCallWrites{
	// Typed: sent as text in the simple protocol, 2 would be an integer
	// and no function takes one.
	create: "SELECT tasks_create($1::text, $2::uuid, $3::text, $4::text, $5::boolean, $6::smallint, $7::text[], " +
		"$8::timestamptz, $9::timestamptz, $10::timestamptz, $11::timestamptz, $12::bigint, $13::uuid, $14::bigint)",
	// The next number of the user's sequence, as a WITH query, if the task
	// is there with version $3: no row otherwise. (Should another write
	// change the task between the statement's snapshot and its lock on the
	// user's row, the update writes nothing but the number is taken, and
	// stays unused.)
	update: "WITH seq AS (UPDATE users SET change_seq = change_seq + 1 WHERE user_id = $1 " +
		"AND EXISTS (SELECT 1 FROM tasks AS c WHERE c.user_id = $1 AND c.id = $2 AND c.version = $3::bigint) RETURNING change_seq) " +
		"UPDATE tasks AS t SET title = $4, description = $5, completed = $6, priority = $7, tags = $8, " +
		"due_time = $9, update_time = $10, complete_time = $11, version = t.version + 1, change_seq = seq.change_seq " +
		"FROM seq WHERE t.user_id = $1 AND t.id = $2 AND t.version = $3::bigint RETURNING t.change_seq",
	delete: "SELECT tasks_delete($1::text, $2::uuid, $3::bigint, $4::timestamptz)",
}

// updateArgs are the arguments of oneCallWrites.update that write r, the
// row with its new values, over version from.
func (r *taskRow) updateArgs(from int64) []any {
	return []any{r.UserID, r.ID, from, r.Title, r.Description, r.Completed, r.Priority, r.Tags,
		r.DueTime, r.UpdateTime, r.CompleteTime}
}
