package service

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/example/tasks"
	"github.com/example/tasks/auth"
)

// The authentication middleware's tests run the real verifier (auth) with
// an HMAC secret; which tokens it accepts is auth's to test.

const echoPath = "/test.v1.EchoService/Echo"

var testSecret = []byte("a-test-secret-of-at-least-32-bytes!")

// testPublicPaths is the allow-list the server passes: health, reflection
// and the HTTP probes.
var testPublicPaths = []string{
	"/grpc.health.v1.Health/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
	"/healthz",
	"/readyz",
}

// authServer is an HTTP/2 TLS server with the middleware in front of a
// Connect handler that answers with the caller's ID, a stand-in health
// handler and /healthz. It records whether any request body was read and
// whether a handler ran.
type authServer struct {
	*httptest.Server
	bodyRead atomic.Bool
	handled  atomic.Int64
}

func mustAuthServer(tb testing.TB, a Authenticator, public []string) *authServer {
	tb.Helper()
	s := &authServer{}
	mux := http.NewServeMux()
	mux.Handle(echoPath, connect.NewUnaryHandler(echoPath,
		func(ctx context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[wrapperspb.StringValue], error) {
			s.handled.Add(1)
			user, ok := tasks.UserFrom(ctx)
			if !ok {
				return nil, connect.NewError(connect.CodeInternal, nil)
			}
			return connect.NewResponse(wrapperspb.String(user.ID)), nil
		}))
	plain := func(w http.ResponseWriter, r *http.Request) {
		s.handled.Add(1)
		_, _ = io.WriteString(w, "ok")
	}
	mux.HandleFunc("/grpc.health.v1.Health/Check", plain)
	mux.HandleFunc("/healthz", plain)
	mux.HandleFunc("/", plain)

	spy := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = spyBody{ReadCloser: r.Body, read: &s.bodyRead}
			next.ServeHTTP(w, r)
		})
	}
	s.Server = httptest.NewUnstartedServer(spy(Authenticate(a, public, slog.New(slog.DiscardHandler), nil)(mux)))
	s.EnableHTTP2 = true
	s.StartTLS()
	tb.Cleanup(s.Close)
	return s
}

// spyBody records whether anything read the request body.
type spyBody struct {
	io.ReadCloser
	read *atomic.Bool
}

func (b spyBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.ReadCloser.Read(p)
}

func (s *authServer) wantUntouched(tb testing.TB) {
	tb.Helper()
	if s.bodyRead.Load() {
		tb.Error("the request body was read")
	}
	if n := s.handled.Load(); n != 0 {
		tb.Errorf("handler ran %d times", n)
	}
}

// mustHMACVerifier accepts HS256 tokens signed with testSecret.
func mustHMACVerifier(tb testing.TB) *auth.Verifier {
	tb.Helper()
	v, err := auth.New(context.Background(), auth.Config{Secret: testSecret})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

// mustToken mints an HS256 token for sub, issued at now.
func mustToken(tb testing.TB, sub string, now time.Time) string {
	tb.Helper()
	token, err := auth.MintHS256(testSecret, auth.TokenRequest{Subject: sub, TTL: time.Hour, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	return token
}

// mustRawToken signs payload, JSON written by hand (json.Marshal would make
// every string valid UTF-8), with HS256 and testSecret.
func mustRawToken(tb testing.TB, payload string) string {
	tb.Helper()
	signed, err := jws.Sign([]byte(payload), jws.WithKey(jwa.HS256, testSecret))
	if err != nil {
		tb.Fatal(err)
	}
	return string(signed)
}

// TestAuthenticateProtocols calls through a Connect, a Connect JSON, a gRPC
// and a gRPC-Web client and checks each gets the caller through, or its
// protocol's error with the verifier's message and the ErrorInfo reason,
// before the handler or the body is touched. Which headers and tokens the
// verifier accepts is auth's TestAuthenticate.
func TestAuthenticateProtocols(t *testing.T) {
	t.Parallel()
	v := mustHMACVerifier(t)
	good := mustToken(t, "user-1", time.Now())
	expired := mustToken(t, "user-1", time.Now().Add(-2*time.Hour))
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)

	protocols := []struct {
		name string
		opts []connect.ClientOption
	}{
		{"connect", nil},
		{"connect json", []connect.ClientOption{connect.WithProtoJSON()}},
		{"grpc", []connect.ClientOption{connect.WithGRPC()}},
		{"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}},
	}
	cases := []struct {
		name    string
		auth    []string // Authorization header values
		wantSub string
		wantMsg string
	}{
		{name: "valid", auth: []string{"Bearer " + good}, wantSub: "user-1"},
		{name: "no header", wantMsg: "invalid token"},
		{name: "expired", auth: []string{"Bearer " + expired}, wantMsg: "token expired"},
		{name: "two headers", auth: []string{"Bearer " + good, "Bearer " + good}, wantMsg: "invalid token"},
		// Genuine tokens whose sub cannot be a user. The two that are not
		// UTF-8 would both decode to "a\uFFFDb", one user.
		{name: "sub with a NUL", auth: []string{"Bearer " + mustRawToken(t, `{"sub": "a\u0000b", "exp": `+exp+`}`)}, wantMsg: "invalid token: user id must not contain control characters"},
		{name: "sub not UTF-8", auth: []string{"Bearer " + mustRawToken(t, `{"sub": "a`+"\xff"+`b", "exp": `+exp+`}`)}, wantMsg: "invalid token: user id must be valid UTF-8"},
		{name: "another sub not UTF-8", auth: []string{"Bearer " + mustRawToken(t, `{"sub": "a`+"\xfe"+`b", "exp": `+exp+`}`)}, wantMsg: "invalid token: user id must be valid UTF-8"},
		{name: "sub too long", auth: []string{"Bearer " + mustRawToken(t, `{"sub": "`+strings.Repeat("é", 256)+`", "exp": `+exp+`}`)}, wantMsg: "invalid token: user id must be at most 255 characters"},
	}
	for _, p := range protocols {
		for _, c := range cases {
			t.Run(p.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				srv := mustAuthServer(t, v, testPublicPaths)
				client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL+echoPath, p.opts...)
				req := connect.NewRequest(wrapperspb.String(strings.Repeat("body ", 100)))
				for _, a := range c.auth {
					req.Header().Add("Authorization", a)
				}
				res, err := client.CallUnary(context.Background(), req)
				if c.wantSub != "" {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					if res.Msg.GetValue() != c.wantSub {
						t.Fatalf("handler saw user %q, want %q", res.Msg.GetValue(), c.wantSub)
					}
					return
				}
				cerr, ok := err.(*connect.Error)
				if !ok {
					t.Fatalf("error %v is not a *connect.Error", err)
				}
				if cerr.Code() != connect.CodeUnauthenticated || cerr.Message() != c.wantMsg {
					t.Fatalf("got %v %q, want unauthenticated %q", cerr.Code(), cerr.Message(), c.wantMsg)
				}
				if got := ErrorReason(cerr); got != ReasonUnauthorized {
					t.Fatalf("reason %q", got)
				}
				srv.wantUntouched(t)
			})
		}
	}
}

// TestAuthenticateWire checks the raw responses: HTTP status, headers,
// trailers and bodies of each protocol, and that a token anywhere but the
// Authorization header is ignored.
func TestAuthenticateWire(t *testing.T) {
	t.Parallel()
	v := mustHMACVerifier(t)
	good := mustToken(t, "user-1", time.Now())

	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		header      http.Header
		cookie      *http.Cookie
		wantStatus  int
		wantGRPC    string // grpc-status, in headers or trailers
		wantJSON    string // Connect error code in a JSON body
		wantText    string // plain-text body
	}{
		{name: "connect json", contentType: "application/json", wantStatus: 401, wantJSON: "unauthenticated"},
		{name: "connect proto", contentType: "application/proto", wantStatus: 401, wantJSON: "unauthenticated"},
		{name: "connect GET", method: http.MethodGet, path: echoPath + "?encoding=json&message=%7B%7D", wantStatus: 401, wantJSON: "unauthenticated"},
		{name: "grpc", contentType: "application/grpc", wantStatus: 200, wantGRPC: "16"},
		{name: "grpc+proto", contentType: "application/grpc+proto", wantStatus: 200, wantGRPC: "16"},
		{name: "grpc-web", contentType: "application/grpc-web+proto", wantStatus: 200, wantGRPC: "16"},
		{name: "not rpc", contentType: "text/plain", wantStatus: 401, wantText: "invalid token"},
		{name: "token in the query string", contentType: "application/json", path: echoPath + "?access_token=" + good + "&token=" + good, wantStatus: 401, wantJSON: "unauthenticated"},
		{name: "token in a cookie", contentType: "application/json", cookie: &http.Cookie{Name: "token", Value: good}, wantStatus: 401, wantJSON: "unauthenticated"},
		{name: "token in another header", contentType: "application/json", header: http.Header{"X-Access-Token": {good}, "Proxy-Authorization": {"Bearer " + good}}, wantStatus: 401, wantJSON: "unauthenticated"},
		{name: "plain OPTIONS", method: http.MethodOptions, wantStatus: 401, wantText: "invalid token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mustAuthServer(t, v, testPublicPaths)
			method, path := tt.method, tt.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = echoPath
			}
			req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(`{"value":"x"}`))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			for k, vs := range tt.header {
				req.Header[k] = vs
			}
			if tt.cookie != nil {
				req.AddCookie(tt.cookie)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body) // trailers arrive after the body
			_ = res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %q", res.StatusCode, tt.wantStatus, body)
			}
			switch {
			case tt.wantGRPC != "":
				status, msg := res.Header.Get("Grpc-Status"), res.Header.Get("Grpc-Message")
				if status == "" {
					status, msg = res.Trailer.Get("Grpc-Status"), res.Trailer.Get("Grpc-Message")
				}
				if status != tt.wantGRPC || msg != "invalid token" {
					t.Fatalf("grpc-status %q, grpc-message %q", status, msg)
				}
			case tt.wantJSON != "":
				var e struct{ Code, Message string }
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("body %q: %v", body, err)
				}
				if e.Code != tt.wantJSON || e.Message != "invalid token" {
					t.Fatalf("body %q", body)
				}
				if got := res.Header.Get("WWW-Authenticate"); got != "Bearer" {
					t.Fatalf("WWW-Authenticate %q", got)
				}
			default:
				if strings.TrimSpace(string(body)) != tt.wantText {
					t.Fatalf("body %q", body)
				}
			}
			srv.wantUntouched(t)
		})
	}
}

// TestAuthenticatePublic checks the allow-list: listed paths and CORS
// preflights pass without a token, nothing else does, and a path that
// only looks public is not.
func TestAuthenticatePublic(t *testing.T) {
	t.Parallel()
	v := mustHMACVerifier(t)
	tests := []struct {
		name, method, path string
		preflight          bool
		public             []string
		wantPass           bool
	}{
		{name: "health check", path: "/grpc.health.v1.Health/Check", wantPass: true},
		{name: "health watch", path: "/grpc.health.v1.Health/Watch", wantPass: true},
		{name: "reflection v1", path: "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", wantPass: true},
		{name: "reflection v1alpha", path: "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", wantPass: true},
		{name: "healthz", method: http.MethodGet, path: "/healthz", wantPass: true},
		{name: "readyz", method: http.MethodGet, path: "/readyz", wantPass: true},
		{name: "CORS preflight", method: http.MethodOptions, path: echoPath, preflight: true, wantPass: true},
		{name: "rpc", path: echoPath},
		{name: "under an exact path", method: http.MethodGet, path: "/healthz/more"},
		{name: "prefix of a service name", path: "/grpc.health.v1.HealthX/Check"},
		{name: "dot-dot out of a public service", path: "/grpc.health.v1.Health/../test.v1.EchoService/Echo"},
		{name: "double slash", path: "/grpc.health.v1.Health//Check"},
		{name: "empty allow-list", method: http.MethodGet, path: "/healthz", public: []string{}},
		{name: "custom allow-list", path: echoPath, public: []string{echoPath}, wantPass: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			public := testPublicPaths
			if tt.public != nil {
				public = tt.public
			}
			srv := mustAuthServer(t, v, public)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, srv.URL, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Path = tt.path // as sent, not cleaned
			req.Header.Set("Content-Type", "application/json")
			if tt.preflight {
				req.Header.Set("Origin", "https://app.example.com")
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if pass := res.StatusCode != http.StatusUnauthorized; pass != tt.wantPass {
				t.Fatalf("status %d; want passed=%v", res.StatusCode, tt.wantPass)
			}
			if !tt.wantPass {
				srv.wantUntouched(t)
			}
		})
	}
}

// TestAuthenticateUnavailable checks that while no JWKS has been fetched an
// asymmetric token gets Unavailable (HTTP 503 in Connect), not
// Unauthenticated, so clients retry instead of signing the user out.
func TestAuthenticateUnavailable(t *testing.T) {
	t.Parallel()
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(jwks.Close)
	v, err := auth.New(context.Background(), auth.Config{JWKSURL: jwks.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	srv := mustAuthServer(t, v, testPublicPaths)
	client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL+echoPath)
	req := connect.NewRequest(wrapperspb.String("x"))
	req.Header().Set("Authorization", "Bearer "+mustEdDSAToken(t))
	_, err = client.CallUnary(context.Background(), req)
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Fatalf("got %v, want unavailable", err)
	}
	if cerr, ok := err.(*connect.Error); !ok || ErrorReason(cerr) != ReasonUnavailable {
		t.Fatalf("got %v, want reason %s", err, ReasonUnavailable)
	}
	srv.wantUntouched(t)
}

// mustEdDSAToken signs a token with a new Ed25519 key, as Better-Auth does.
func mustEdDSAToken(tb testing.TB) string {
	tb.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := jwt.NewBuilder().Subject("ed-user").Expiration(time.Now().Add(time.Hour)).Build()
	if err != nil {
		tb.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA, key))
	if err != nil {
		tb.Fatal(err)
	}
	return string(signed)
}
