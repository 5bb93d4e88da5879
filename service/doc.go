// Package service serves the domain over Connect: the tasks.v1.TaskService
// handlers and the conversions between their messages and the domain's
// types, the interceptors and HTTP middleware every call passes
// (authentication, telemetry, reading the body within its deadline,
// validation, deadlines, logging, the in-flight limits in all and per
// user), and the one table that maps domain errors to Connect codes and
// ErrorInfo reasons. It knows nothing of SQL or JWTs: it is handed a
// tasks.TaskStore and an Authenticator, and cmd/tasksd wires them together.
package service
