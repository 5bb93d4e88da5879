package main

import "strings"

// setting is one configuration value, declared once: its environment
// variable names it everywhere (the flag, README.md, .env.example and every
// error message), and parse stores its value in a config field.
type setting struct {
	env   string
	def   string
	usage string
	parse parser
}

// flag is the setting's command-line flag, derived so that it cannot drift
// from the variable: LISTEN_ADDR is -listen-addr.
func (s setting) flag() string {
	return strings.ToLower(strings.ReplaceAll(s.env, "_", "-"))
}

// settings lists every setting, each bound to its field of c; listenDefault
// is LISTEN_ADDR's value when it is unset. README.md's configuration table
// and .env.example list the same settings (TestSettingsDocumented).
func (c *config) settings(listenDefault string) []setting {
	return []setting{
		{"LISTEN_ADDR", "", "host:port to listen on; default :$PORT if PORT is set, else :8080 (dev: localhost:8080)", listenAddr(&c.ListenAddr, listenDefault)},
		{"DATA_DIR", "data", "directory for the embedded SQLite database and the dev secret", required(&c.DataDir)},
		{"DATABASE_URL", "", "postgres://… for PostgreSQL, or an SQLite path or file: URL; empty: SQLite in DATA_DIR", str(&c.DatabaseURL)},
		{"DATABASE_LISTEN_URL", "", "PostgreSQL: a direct connection (not through a transaction-mode pooler) to hear other replicas' changes on, and for migrations that run outside a transaction; empty: DATABASE_URL", str(&c.DatabaseListenURL)},
		{"DB_MAX_CONNS", "10", "PostgreSQL connection pool size", positiveInt(&c.DBMaxConns)},
		{"DB_STATEMENT_TIMEOUT", "5s", "server-side limit on each SQL statement", duration(&c.StatementTimeout)},
		{"DB_PREPARED_STATEMENTS", "true", "PostgreSQL: prepare the hot statements once per connection; false behind PgBouncer before 1.21 in transaction mode", boolean(&c.PreparedStatements)},
		{"CHANGE_RETENTION", "720h", "how long deletions are remembered for sync; older cursors expire", duration(&c.ChangeRetention)},
		{"MAX_TASKS_PER_USER", "100000", "most tasks one user may have; creates beyond it are ResourceExhausted (QUOTA_EXCEEDED)", positiveInt(&c.MaxTasksPerUser)},
		{"AUTH_JWKS_URL", "", "JWKS of the token issuer, e.g. https://app.example.com/api/auth/jwks", str(&c.JWKSURL)},
		{"AUTH_JWT_SECRET", "", "HMAC secret for HS256/384/512 tokens (at least 32 bytes)", str(&c.JWTSecret)},
		{"AUTH_ISSUER", "", "required iss claim, when set", str(&c.Issuer)},
		{"AUTH_AUDIENCE", "", "required aud claim, when set", str(&c.Audience)},
		{"AUTH_CLOCK_SKEW", "30s", "allowed clock skew for exp, nbf and iat", nonNegativeDuration(&c.ClockSkew)},
		{"CORS_ALLOWED_ORIGINS", "", "comma-separated browser origins allowed to call the API; empty: none (dev: the app on localhost:3000); * for all", origins(&c.CORSOrigins)},
		{"TLS_CERT_FILE", "", "TLS certificate (PEM); with TLS_KEY_FILE serves HTTPS and gRPC over TLS", str(&c.TLSCertFile)},
		{"TLS_KEY_FILE", "", "TLS private key (PEM)", str(&c.TLSKeyFile)},
		{"LOG_LEVEL", "info", "debug, info, warn or error", logLevel(&c.LogLevel)},
		{"LOG_FORMAT", "text", "text or json", oneOf(&c.LogFormat, "text", "json")},
		{"MAX_REQUEST_BYTES", "1048576", "largest request message accepted; larger is ResourceExhausted", bytesAtLeast(&c.MaxRequestBytes, 1024)},
		{"MAX_IN_FLIGHT", "256", "TaskService calls served at once; more are answered Unavailable at once. Times MAX_REQUEST_BYTES, it also bounds the request bodies held at once", positiveInt(&c.MaxInFlight)},
		{"MAX_IN_FLIGHT_PER_USER", "32", "one user's share of MAX_IN_FLIGHT, and of requests whose bodies are being received; more are answered ResourceExhausted (TOO_MANY_REQUESTS) at once", positiveInt(&c.MaxInFlightPerUser)},
		{"RATE_LIMIT_PER_USER", "0", "calls a second one user may start, in bursts of a second's worth; more are ResourceExhausted (TOO_MANY_REQUESTS); 0: no limit", nonNegativeInt(&c.RateLimitPerUser)},
		{"CALL_TIMEOUT", "30s", "deadline of a call whose client sets none", duration(&c.CallTimeout)},
		{"BODY_READ_TIMEOUT", "5s", "time a client has to send a request body; slower ones are cut off DeadlineExceeded", duration(&c.BodyReadTimeout)},
		{"HEADER_READ_TIMEOUT", "10s", "time a client has to send a request's headers (HTTP/1.1) once it starts", duration(&c.HeaderReadTimeout)},
		{"IDLE_TIMEOUT", "2m", "an idle connection (no call in progress) is closed after this long", duration(&c.IdleTimeout)},
		{"MAX_CONNECTIONS", "0", "open connections at once, beyond which new ones wait; 0: three quarters of the open-file limit, at most 10000", nonNegativeInt(&c.MaxConnections)},
		{"SHUTDOWN_TIMEOUT", "20s", "how long in-flight calls may finish after SIGINT/SIGTERM", duration(&c.ShutdownTimeout)},
		{"HEALTH_INTERVAL", "2s", "how often the database is pinged for health and readiness", duration(&c.HealthInterval)},
		{"HEALTH_WATCH_MAX", "1000", "open gRPC health Watch streams; more are ResourceExhausted (TOO_MANY_WATCHES)", positiveInt(&c.HealthWatchMax)},
		{"WATCH_HEARTBEAT", "15s", "quiet time after which a watch sends a heartbeat", duration(&c.WatchHeartbeat)},
		{"WATCH_MAX_DURATION", "30m", "longest a watch stays open before it ends Unavailable (clients reconnect)", duration(&c.WatchMaxDuration)},
		{"WATCH_MAX_PER_USER", "16", "open watches of one user per replica", positiveInt(&c.WatchMaxPerUser)},
		{"WATCH_MAX", "10000", "open watches per replica", positiveInt(&c.WatchMax)},
		{"DEBUG_ADDR", "", "host:port for a separate listener serving Prometheus /metrics and pprof (/debug/pprof/); empty: off, and no metrics are kept. Never expose it", optionalAddr(&c.DebugAddr)},
		{"READY_FILE", "", "once listening, write {\"url\": …, \"pid\": …} to this file, for scripts and tests that start the server", str(&c.ReadyFile)},
	}
}
