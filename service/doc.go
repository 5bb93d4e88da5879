// Package service is the Tasks API's domain and its Connect handlers: the
// task type, the store interface the handlers need, the caller in the
// context, the error kinds and how they map to Connect codes. It knows
// nothing of SQL or JWTs; storage and auth implement or feed what it
// declares, and cmd/tasksd wires them together.
package service
