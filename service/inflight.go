package service

import (
	"net/http"

	"connectrpc.com/connect"

	"github.com/example/tasks"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
)

// LimitInFlight serves at most max calls at once and answers the rest
// Unavailable straight away, before their bodies are read. Past what the
// database can serve, queueing more calls only adds memory and latency; a
// quick Unavailable lets clients back off and retry, and load balancers
// send them elsewhere. Open watches do not count: they wait, and their
// own limits bound them (WatchConfig). Each call shed is counted on t
// (Refused); t may be nil.
func LimitInFlight(next http.Handler, max int, t *Telemetry) http.Handler {
	slots := make(chan struct{}, max)
	errw := connect.NewErrorWriter()
	overloaded := ConnectError(tasks.Errorf(tasks.KindUnavailable, "server overloaded, retry later"))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == tasksv1connect.TaskServiceWatchTasksProcedure {
			next.ServeHTTP(w, req)
			return
		}
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
