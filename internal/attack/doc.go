// Package attack holds the abusive clients the server is tried against:
// request bodies that trickle in over HTTP/1.1 and HTTP/2, one user making
// hundreds of calls at once, thousands of connections, health watches and
// HTTP/2 rapid reset. Each runs until its context ends (or the server has
// cut it off) and reports what the server did to it, and Calls measures a
// well-behaved user meanwhile. cmd/tasksd's tests assert on the reports;
// `tasks-bench attack` runs the same clients against a real process and
// measures its memory and CPU, and the fault suite reuses them.
package attack
