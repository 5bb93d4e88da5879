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
