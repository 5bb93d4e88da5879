// Package tasks is the domain of the Tasks API: what a task is, the rules a
// new task and a change must follow, how a change applies, how lists are
// asked for, the store every backend implements, the one error type with
// its kinds, and the caller in the context. It depends on the standard
// library only. The adapters import it and not each other: service serves
// it over Connect, storage keeps it in SQL, auth turns tokens into its User,
// and cmd/tasksd wires them together.
package tasks
