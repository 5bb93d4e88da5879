package tasks

// The limits of the domain, in characters (Unicode code points) where they
// are lengths. They are written in two other places only, each checked
// against these by a test: the protovalidate rules of tasks.proto (so
// clients see the same limits, service's TestSchemaLimits) and the CHECK
// constraints of the SQL migrations (storage's TestSchemaLimits).
const (
	MaxUserIDLen      = 255  // a user id: the JWT subject that owns every task
	MaxTitleLen       = 200  // a task's title, after trimming
	MaxDescriptionLen = 4000 // a task's description
	MaxTags           = 16   // tags on one task
	MaxTagLen         = 32   // one tag
	MaxQueryLen       = 200  // ListTasks's text query
)

// Page sizes of ListTasks.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// The range of every time the API takes and returns, in seconds since the
// Unix epoch, both ends included: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59Z. It is what a protobuf Timestamp can hold (and RFC
// 3339 can write), cut to the whole second at the top so that no rounding
// carries an accepted time out of it. It applies to a task's due time and
// to the due_before/due_after filters, and the schema states it too
// (service's TestSchemaTimeRange). The SQL schemas do not: a row written
// before the range existed may hold a time outside it, which reads clamp
// rather than fail on.
const (
	MinTimeUnix int64 = -62135596800
	MaxTimeUnix int64 = 253402300799
)
