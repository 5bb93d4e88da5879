package auth

import (
	"net/http"
	"path"
	"strings"

	"connectrpc.com/connect"

	"github.com/example/tasks/service"
)

// Middleware returns net/http middleware that lets a request through only
// with a valid bearer token, and puts its caller into the request context
// (service.WithUser) for handlers to read with service.UserFrom. It runs
// before the Connect handlers, so an anonymous request is refused before
// its body is read, with an error in the caller's protocol (Connect, gRPC
// or gRPC-Web, via connect.NewErrorWriter) or a plain 401 for anything
// else.
//
// public is the explicit allow-list of paths that need no token: an entry
// ending in "/" is a prefix (a whole service, e.g.
// "/grpc.health.v1.Health/"); any other entry is an exact path. CORS preflights (OPTIONS with
// Access-Control-Request-Method) also pass, since browsers never send
// credentials on them. The list is copied.
func (v *Verifier) Middleware(public []string) func(http.Handler) http.Handler {
	allow := newPathList(public)
	errw := connect.NewErrorWriter()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if allow.matches(r.URL.Path) || isPreflight(r) {
				next.ServeHTTP(w, r)
				return
			}
			user, err := v.authenticate(r)
			if err != nil {
				v.refuse(errw, w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(service.WithUser(r.Context(), user)))
		})
	}
}

func (v *Verifier) authenticate(r *http.Request) (service.User, error) {
	token, ok := BearerToken(r.Header)
	if !ok {
		return service.User{}, errInvalid("no single Authorization: Bearer header")
	}
	return v.Verify(r.Context(), token)
}

// refuse writes err in the request's protocol. It logs the cause at debug
// level (never the token), because a stream of refusals is normal on the
// internet and the client already got its answer.
func (v *Verifier) refuse(errw *connect.ErrorWriter, w http.ResponseWriter, r *http.Request, err error) {
	cerr := service.ConnectError(err)
	v.log.DebugContext(r.Context(), "auth: request refused", "path", r.URL.Path, "code", cerr.Code().String(), "err", err)
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
