package service

import (
	"encoding/base64"
	"net/http"

	"connectrpc.com/connect"

	"github.com/example/tasks"
)

// checkGetMessage refuses a Connect GET whose message says it is base64
// (base64=1) and is not: InvalidArgument, reason INVALID_REQUEST.
// connect-go decodes the base64 as it reads the message and reports a bad
// one as Unknown (HTTP 500), as if the server had failed.
func checkGetMessage(next http.Handler) http.Handler {
	errw := connect.NewErrorWriter()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.RawQuery != "" {
			if q := r.URL.Query(); q.Get("base64") == "1" && !isBase64URL(q.Get("message")) {
				_ = errw.Write(w, r, ConnectError(tasks.Errorf(tasks.KindInvalid, "message is not valid base64url")))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isBase64URL reports whether s is URL-safe base64, padded or not, as the
// Connect protocol allows (and connect-go reads it).
func isBase64URL(s string) bool {
	enc := base64.URLEncoding
	if len(s)%4 != 0 {
		enc = base64.RawURLEncoding
	}
	_, err := enc.DecodeString(s)
	return err == nil
}
