// Package faults checks that a tasks server keeps every write it
// acknowledged through crashes and outages. Writers make creates, updates
// and deletes and keep a ledger of what the server answered; a call that
// got no answer is in doubt (it may or may not have happened) and a create
// in doubt is sent again, with the same request_id, until it is answered.
// Check then compares what the server holds with the ledgers: a task whose
// create was acknowledged must be there, with the last acknowledged title
// or one sent after it; an acknowledged deletion must have stuck; and no
// task may exist that no create made, which is what a retried create that
// ran twice would leave.
//
// `tasks-bench crash` and `tasks-bench outage` drive it against real
// processes (`make faults`); cmd/tasksd's kill test does the same briefly
// in `make test`.
package faults
