// Package storage keeps tasks in PostgreSQL or an embedded SQLite file and
// is the only package that knows SQL. Its Store implements tasks.TaskStore
// on Bun, checking its input with the domain's own rules; Open picks the
// database from a URL, and the schema is a set of embedded migrations run
// by MigrateUp. What PostgreSQL and SQLite do differently sits behind one
// seam, the dialect. Every operation is one short transaction (or one
// statement) bounded by the caller's context and a server-side statement
// timeout, and every driver error is translated once into a tasks.Error
// kind.
package storage
