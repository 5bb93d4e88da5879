package service

import (
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/example/tasks"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
)

// Limits bound the TaskService calls a replica serves at once, in all and
// for each user.
type Limits struct {
	// MaxInFlight is how many calls are served at once (MAX_IN_FLIGHT).
	MaxInFlight int
	// MaxInFlightPerUser is one user's share of them
	// (MAX_IN_FLIGHT_PER_USER); 0 means no share but MaxInFlight.
	MaxInFlightPerUser int
	// RatePerUser is how many calls a second one user may start, in
	// bursts of up to a second's worth (RATE_LIMIT_PER_USER); 0 means no
	// limit.
	RatePerUser int
	// now is RatePerUser's clock; nil means time.Now. Tests set it.
	now func() time.Time
}

// LimitInFlight serves at most limits.MaxInFlight calls at once, and at
// most limits.MaxInFlightPerUser of one user, at most limits.RatePerUser a
// second. Past what the database can serve, queueing more calls only adds
// memory and latency; a quick refusal lets clients back off and retry,
// and load balancers send them elsewhere. A user over its share or rate
// is answered ResourceExhausted (TOO_MANY_REQUESTS) before it takes a
// slot, so one user's excess never becomes everyone's Unavailable, which
// is the answer only when all the slots are taken.
//
// It runs after authentication and after the body is read (ReadBodies):
// a slot is held for work, never for waiting on a slow client. Open
// watches take no slot (they wait, and their own limits bound them,
// WatchConfig) but opening one counts against the user's rate.
//
// Each refusal is counted on t (Refused); t may be nil.
func LimitInFlight(next http.Handler, limits Limits, t *Telemetry) http.Handler {
	slots := make(chan struct{}, limits.MaxInFlight)
	users := newUserLimits(limits)
	errw := connect.NewErrorWriter()
	overloaded := overloadedError()
	tooFast := ConnectError(tasks.Errorf(tasks.KindTooManyRequests, "more than %d calls a second; retry later", limits.RatePerUser))
	tooMany := ConnectError(tasks.Errorf(tasks.KindTooManyRequests, "more than %d calls at once; retry when some have finished", users.maxInFlight))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, _ := tasks.UserFrom(req.Context())
		if !users.allow(user.ID) {
			t.Refused(req.Context(), RefusedRateLimited)
			_ = errw.Write(w, req, tooFast)
			return
		}
		if req.URL.Path == tasksv1connect.TaskServiceWatchTasksProcedure {
			next.ServeHTTP(w, req)
			return
		}
		if !users.acquire(user.ID) {
			t.Refused(req.Context(), RefusedRateLimited)
			_ = errw.Write(w, req, tooMany)
			return
		}
		defer users.release(user.ID)
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, req)
		default:
			t.Refused(req.Context(), RefusedShed)
			_ = errw.Write(w, req, overloaded)
		}
	})
}

// overloadedError is the answer to a call the server sheds: Unavailable,
// which clients retry.
func overloadedError() *connect.Error {
	return ConnectError(tasks.Errorf(tasks.KindUnavailable, "server overloaded, retry later"))
}
