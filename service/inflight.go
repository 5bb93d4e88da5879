package service

import (
	"net/http"

	"connectrpc.com/connect"

	"github.com/example/tasks"
)

// LimitInFlight serves at most max calls at once and answers the rest
// Unavailable straight away, before their bodies are read. Past what the
// database can serve, queueing more calls only adds memory and latency; a
// quick Unavailable lets clients back off and retry, and load balancers
// send them elsewhere.
func LimitInFlight(next http.Handler, max int) http.Handler {
	slots := make(chan struct{}, max)
	errw := connect.NewErrorWriter()
	overloaded := ConnectError(tasks.Errorf(tasks.KindUnavailable, "server overloaded, retry later"))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, req)
		default:
			_ = errw.Write(w, req, overloaded)
		}
	})
}
