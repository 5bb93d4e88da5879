// Package readyfile is how a server started by a script or a test says that
// it is ready and where: once it accepts connections it writes a small JSON
// file (Info) to a path its starter chose, and the starter waits for that
// file. tasksd writes one (READY_FILE) and so does the throwaway PostgreSQL
// of cmd/pgtest; the Go end-to-end tests, the load tool, `make bench` and the
// TypeScript harnesses wait for them. A file, rather than a line of output to
// parse, leaves the server's output to people.
package readyfile
