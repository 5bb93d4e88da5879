// Package storage keeps tasks in PostgreSQL or an embedded SQLite file and
// is the only package that knows SQL. Its Store implements
// service.TaskStore on Bun; Open picks the database from a URL, and the
// schema is a set of embedded migrations run by MigrateUp. Every operation
// is one short transaction bounded by the caller's context and a
// server-side statement timeout, and every driver error is translated once
// into a service.Error kind.
package storage
