package service

import (
	"log/slog"
	"net/http"
	"path"
	"strings"

	"connectrpc.com/connect"

	"github.com/example/tasks"
)

// Authenticator decides who sent a request; auth.Verifier is one. Errors
// are *tasks.Error values: Unauthenticated, or Unavailable when it cannot
// tell yet.
type Authenticator interface {
	Authenticate(r *http.Request) (tasks.User, error)
}

// Authenticate returns net/http middleware that lets a request through
// only when a authenticates it, and puts its caller into the request
// context (tasks.WithUser) for handlers to read with tasks.UserFrom. It
// runs before the Connect handlers, so an anonymous request is refused
// before its body is read, with an error in the caller's protocol (Connect,
// gRPC or gRPC-Web, via connect.NewErrorWriter) or a plain 401 for
// anything else.
//
// public is the explicit allow-list of paths that need no token: an entry
// ending in "/" is a prefix (a whole service, e.g.
// "/grpc.health.v1.Health/"); any other entry is an exact path. CORS
// preflights (OPTIONS with Access-Control-Request-Method) also pass, since
// browsers never send credentials on them. The list is copied. Refusals
// are logged at debug level, with their cause but never the token: a
// stream of them is normal on the internet, and the client already got
// its answer. They are counted (t.Refused), since they never reach the
// handler's own count of calls by code.
func Authenticate(a Authenticator, public []string, logger *slog.Logger, t *Telemetry) func(http.Handler) http.Handler {
	allow := newPathList(public)
	errw := connect.NewErrorWriter()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if allow.matches(r.URL.Path) || isPreflight(r) {
				next.ServeHTTP(w, r)
				return
			}
			user, err := a.Authenticate(r)
			if err != nil {
				cerr := ConnectError(err)
				logger.DebugContext(r.Context(), "auth: request refused", "path", r.URL.Path, "code", cerr.Code().String(), "request_id", RequestIDFrom(r.Context()), "err", err)
				why := RefusedUnauthenticated
				if cerr.Code() != connect.CodeUnauthenticated {
					why = RefusedAuthUnavailable
				}
				t.Refused(r.Context(), why)
				refuse(errw, w, r, cerr)
				return
			}
			next.ServeHTTP(w, r.WithContext(tasks.WithUser(r.Context(), user)))
		})
	}
}

// refuse writes cerr in the request's protocol, leaving the body unread.
func refuse(errw *connect.ErrorWriter, w http.ResponseWriter, r *http.Request, cerr *connect.Error) {
	leaveBodyUnread(w, r)
	if cerr.Code() == connect.CodeUnauthenticated {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	if errw.IsSupported(r) {
		_ = errw.Write(w, r, cerr)
		return
	}
	status := http.StatusUnauthorized
	if cerr.Code() != connect.CodeUnauthenticated {
		status = http.StatusServiceUnavailable
	}
	http.Error(w, cerr.Message(), status)
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

// pathList is an allow-list of exact paths and "/"-terminated prefixes.
type pathList struct {
	exact    map[string]bool
	prefixes []string
}

func newPathList(paths []string) pathList {
	l := pathList{exact: make(map[string]bool)}
	for _, p := range paths {
		if strings.HasSuffix(p, "/") {
			l.prefixes = append(l.prefixes, p)
		} else {
			l.exact[p] = true
		}
	}
	return l
}

// matches reports whether p is public. A path that is not in clean form
// never is, so "/grpc.health.v1.Health/../tasks.v1.TaskService/GetTask"
// cannot borrow the health service's exemption.
func (l pathList) matches(p string) bool {
	if !isClean(p) {
		return false
	}
	if l.exact[p] {
		return true
	}
	for _, pre := range l.prefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// isClean reports whether p is absolute and has no ".", ".." or empty
// segments; a trailing slash is allowed.
func isClean(p string) bool {
	c := path.Clean(p)
	return strings.HasPrefix(p, "/") && (c == p || c+"/" == p)
}
