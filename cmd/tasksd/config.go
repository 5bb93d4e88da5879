package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is every setting of the server, read in one place: flags, each
// defaulting to its environment variable, defaulting to the value shown.
type config struct {
	ListenAddr       string
	DataDir          string
	DatabaseURL      string
	DBMaxConns       int
	StatementTimeout time.Duration

	JWKSURL   string
	JWTSecret string
	Issuer    string
	Audience  string
	ClockSkew time.Duration

	CORSOrigins []string
	TLSCertFile string
	TLSKeyFile  string

	LogLevel  slog.Level
	LogFormat string

	MaxRequestBytes int64
	MaxInFlight     int
	CallTimeout     time.Duration
	ShutdownTimeout time.Duration
	HealthInterval  time.Duration

	// DebugAddr, when set, serves net/http/pprof on its own listener.
	DebugAddr string
	// ReadyFile, when set, is written once the server accepts connections
	// (see internal/readyfile).
	ReadyFile string
}

// setting describes one configuration value for flags, the README and
// .env.example.
type setting struct {
	flag, env, def, usage string
}

// settings lists every setting; parseConfig reads them and README.md's
// configuration table lists them.
var settings = []setting{
	{"listen-addr", "LISTEN_ADDR", "", "host:port to listen on; default :$PORT if PORT is set, else :8080 (dev: localhost:8080)"},
	{"data-dir", "DATA_DIR", "data", "directory for the embedded SQLite database and the dev secret"},
	{"database-url", "DATABASE_URL", "", "postgres://… for PostgreSQL, or an SQLite path or file: URL; empty: SQLite in DATA_DIR"},
	{"db-max-conns", "DB_MAX_CONNS", "10", "PostgreSQL connection pool size"},
	{"db-statement-timeout", "DB_STATEMENT_TIMEOUT", "5s", "server-side limit on each SQL statement"},
	{"auth-jwks-url", "AUTH_JWKS_URL", "", "JWKS of the token issuer, e.g. https://app.example.com/api/auth/jwks"},
	{"auth-jwt-secret", "AUTH_JWT_SECRET", "", "HMAC secret for HS256/384/512 tokens (at least 32 bytes)"},
	{"auth-issuer", "AUTH_ISSUER", "", "required iss claim, when set"},
	{"auth-audience", "AUTH_AUDIENCE", "", "required aud claim, when set"},
	{"auth-clock-skew", "AUTH_CLOCK_SKEW", "30s", "allowed clock skew for exp, nbf and iat"},
	{"cors-allowed-origins", "CORS_ALLOWED_ORIGINS", "", "comma-separated browser origins allowed to call the API"},
	{"tls-cert-file", "TLS_CERT_FILE", "", "TLS certificate (PEM); with TLS_KEY_FILE serves HTTPS and gRPC over TLS"},
	{"tls-key-file", "TLS_KEY_FILE", "", "TLS private key (PEM)"},
	{"log-level", "LOG_LEVEL", "info", "debug, info, warn or error"},
	{"log-format", "LOG_FORMAT", "text", "text or json"},
	{"max-request-bytes", "MAX_REQUEST_BYTES", "1048576", "largest request message accepted; larger is ResourceExhausted"},
	{"max-in-flight", "MAX_IN_FLIGHT", "256", "TaskService calls served at once; more are answered Unavailable at once"},
	{"call-timeout", "CALL_TIMEOUT", "30s", "deadline of a call whose client sets none"},
	{"shutdown-timeout", "SHUTDOWN_TIMEOUT", "20s", "how long in-flight calls may finish after SIGINT/SIGTERM"},
	{"health-interval", "HEALTH_INTERVAL", "2s", "how often the database is pinged for health and readiness"},
	{"debug-addr", "DEBUG_ADDR", "", "host:port for a separate pprof listener (/debug/pprof/); empty: off. Never expose it"},
	{"ready-file", "READY_FILE", "", "once listening, write {\"url\": …, \"pid\": …} to this file, for scripts and tests that start the server"},
}

// parseOptions adapt parseConfig to a subcommand.
type parseOptions struct {
	// listenAddr is the address used when neither LISTEN_ADDR nor PORT is
	// set; empty means ":8080".
	listenAddr string
	// flags registers the subcommand's own flags beside the settings.
	flags func(*flag.FlagSet)
}

// parseConfig reads flags (args) over environment variables (getenv) over
// defaults, and validates the result with messages that name the setting.
func parseConfig(name string, args []string, getenv func(string) string, opts parseOptions) (config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if opts.flags != nil {
		opts.flags(fs)
	}
	raw := make(map[string]*string, len(settings))
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		raw[s.env] = fs.String(s.flag, def, s.usage+" ($"+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	get := func(env string) string { return strings.TrimSpace(*raw[env]) }

	c := config{
		ListenAddr:  get("LISTEN_ADDR"),
		DataDir:     get("DATA_DIR"),
		DatabaseURL: get("DATABASE_URL"),
		JWKSURL:     get("AUTH_JWKS_URL"),
		JWTSecret:   get("AUTH_JWT_SECRET"),
		Issuer:      get("AUTH_ISSUER"),
		Audience:    get("AUTH_AUDIENCE"),
		TLSCertFile: get("TLS_CERT_FILE"),
		TLSKeyFile:  get("TLS_KEY_FILE"),
		LogFormat:   get("LOG_FORMAT"),
		DebugAddr:   get("DEBUG_ADDR"),
		ReadyFile:   get("READY_FILE"),
	}
	var errs []error
	bad := func(env, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{env}, args...)...))
	}
	duration := func(env string, dst *time.Duration) {
		d, err := time.ParseDuration(get(env))
		if err != nil || d <= 0 {
			bad(env, "want a positive duration like 5s, got %q", get(env))
		}
		*dst = d
	}
	duration("DB_STATEMENT_TIMEOUT", &c.StatementTimeout)
	duration("CALL_TIMEOUT", &c.CallTimeout)
	duration("SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	duration("HEALTH_INTERVAL", &c.HealthInterval)
	if d, err := time.ParseDuration(get("AUTH_CLOCK_SKEW")); err != nil || d < 0 {
		bad("AUTH_CLOCK_SKEW", "want a duration like 30s, got %q", get("AUTH_CLOCK_SKEW"))
	} else {
		c.ClockSkew = d
	}
	if n, err := strconv.Atoi(get("DB_MAX_CONNS")); err != nil || n < 1 {
		bad("DB_MAX_CONNS", "want a positive number, got %q", get("DB_MAX_CONNS"))
	} else {
		c.DBMaxConns = n
	}
	if n, err := strconv.Atoi(get("MAX_IN_FLIGHT")); err != nil || n < 1 {
		bad("MAX_IN_FLIGHT", "want a positive number, got %q", get("MAX_IN_FLIGHT"))
	} else {
		c.MaxInFlight = n
	}
	if n, err := strconv.ParseInt(get("MAX_REQUEST_BYTES"), 10, 64); err != nil || n < 1024 {
		bad("MAX_REQUEST_BYTES", "want a number of bytes of at least 1024, got %q", get("MAX_REQUEST_BYTES"))
	} else {
		c.MaxRequestBytes = n
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL"))); err != nil {
		bad("LOG_LEVEL", "want debug, info, warn or error, got %q", get("LOG_LEVEL"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", "want text or json, got %q", c.LogFormat)
	}
	if c.ListenAddr == "" {
		switch port := strings.TrimSpace(getenv("PORT")); {
		case port != "":
			c.ListenAddr = ":" + port
		case opts.listenAddr != "":
			c.ListenAddr = opts.listenAddr
		default:
			c.ListenAddr = ":8080"
		}
	}
	if _, port, err := net.SplitHostPort(c.ListenAddr); err != nil {
		bad("LISTEN_ADDR", "want host:port, got %q", c.ListenAddr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("LISTEN_ADDR", "bad port in %q", c.ListenAddr)
	}
	if c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			bad("DEBUG_ADDR", "want host:port, got %q", c.DebugAddr)
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		bad("TLS_CERT_FILE", "TLS_CERT_FILE and TLS_KEY_FILE go together")
	}
	for _, o := range strings.Split(get("CORS_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
				bad("CORS_ALLOWED_ORIGINS", "origin %q must start with http:// or https://", o)
			}
			c.CORSOrigins = append(c.CORSOrigins, strings.TrimRight(o, "/"))
		}
	}
	if c.DataDir == "" {
		bad("DATA_DIR", "must not be empty")
	}
	return c, errors.Join(errs...)
}

// requireAuthSource is the check that keeps a server from running without
// any way to verify tokens; only dev mode supplies its own secret.
func (c config) requireAuthSource() error {
	if c.JWKSURL == "" && c.JWTSecret == "" {
		return errors.New("no token source: set AUTH_JWKS_URL (Better-Auth's /api/auth/jwks) and/or AUTH_JWT_SECRET, or run `tasksd dev` for local use")
	}
	return nil
}

func (c config) logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
