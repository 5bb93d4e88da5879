package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// config is every setting of the server, read in one place: flags, each
// defaulting to its environment variable, defaulting to the value in the
// settings table (config_settings.go), which binds each field to its name.
type config struct {
	ListenAddr         string
	DataDir            string
	DatabaseURL        string
	DatabaseListenURL  string
	DBMaxConns         int
	StatementTimeout   time.Duration
	PreparedStatements bool
	ChangeRetention    time.Duration
	MaxTasksPerUser    int

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

	MaxRequestBytes    int64
	MaxInFlight        int
	MaxInFlightPerUser int
	RateLimitPerUser   int
	CallTimeout        time.Duration
	ShutdownTimeout    time.Duration
	HealthInterval     time.Duration
	HealthWatchMax     int

	BodyReadTimeout   time.Duration
	HeaderReadTimeout time.Duration
	IdleTimeout       time.Duration
	MaxConnections    int // 0: derived from the open-file limit (connectionLimit)

	WatchHeartbeat   time.Duration
	WatchMaxDuration time.Duration
	WatchMaxPerUser  int
	WatchMax         int

	// DebugAddr, when set, serves net/http/pprof and /metrics on its own
	// listener.
	DebugAddr string
	// ReadyFile, when set, is written once the server accepts connections
	// (see internal/readyfile).
	ReadyFile string

	// spans, when set (by tests; it is no setting), receives every span
	// as it ends, instead of an OTLP exporter.
	spans sdktrace.SpanExporter
}

// parseOptions adapt parseConfig to a subcommand.
type parseOptions struct {
	// listenAddr is the address used when neither LISTEN_ADDR nor PORT is
	// set; empty means ":8080".
	listenAddr string
	// flags registers the subcommand's own flags beside the settings.
	flags func(*flag.FlagSet)
}

// listenDefault is LISTEN_ADDR's value when it is unset: :$PORT, because
// hosting platforms set PORT alone, else the subcommand's default.
func (o parseOptions) listenDefault(getenv func(string) string) string {
	switch port := strings.TrimSpace(getenv("PORT")); {
	case port != "":
		return ":" + port
	case o.listenAddr != "":
		return o.listenAddr
	default:
		return ":8080"
	}
}

// parseConfig reads flags (args) over environment variables (getenv) over
// defaults, and validates the result with messages that name the setting.
// Every value is read as a string flag and parsed afterwards, so that an
// environment variable and a flag fail alike and every bad setting is
// reported at once, not only the first.
func parseConfig(name string, args []string, getenv func(string) string, opts parseOptions) (config, error) {
	var c config
	table := c.settings(opts.listenDefault(getenv))
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if opts.flags != nil {
		opts.flags(fs)
	}
	raw := make([]*string, len(table))
	for i, s := range table {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		raw[i] = fs.String(s.flag(), def, s.usage+" ($"+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	var errs []error
	for i, s := range table {
		if err := s.parse(strings.TrimSpace(*raw[i])); err != nil {
			errs = append(errs, settingErrors(s.env, err)...)
		}
	}
	// A certificate without its key (or the reverse) is a mistake, not a
	// request for plain HTTP.
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("TLS_CERT_FILE: TLS_CERT_FILE and TLS_KEY_FILE go together"))
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
