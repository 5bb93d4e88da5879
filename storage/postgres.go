package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/migrate"
)

func openPostgres(raw string, cfg Config) (*Store, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error repeats the URL, password and all.
		return nil, invalidURL("not a URL")
	}
	target, err := parsePostgresURL(u)
	if err != nil {
		return nil, err
	}
	conn, err := target.connector(cfg.StatementTimeout + readTimeoutMargin)
	if err != nil {
		return nil, err
	}
	sqldb := sql.OpenDB(stmtConnector{conn})
	sqldb.SetMaxOpenConns(cfg.MaxOpenConns)
	sqldb.SetMaxIdleConns(cfg.MaxIdleConns)
	sqldb.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	sqldb.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	listenTarget := target
	if cfg.ListenURL != "" {
		lu, err := url.Parse(strings.TrimSpace(cfg.ListenURL))
		if err != nil {
			return nil, invalidURL("listen URL: not a URL")
		}
		if listenTarget, err = parsePostgresURL(lu); err != nil {
			return nil, err
		}
	}
	d := pgdialect.New()
	db := bun.NewDB(sqldb, d)
	s := &Store{
		cfg:        cfg,
		dialect:    postgresDialect{setLocal: cfg.SimpleProtocol},
		reads:      newReadSQL(postgresDialect{}),
		writer:     db,
		reader:     db,
		bunDialect: d,
		migrationDB: func() (*sql.DB, error) {
			conn, err := target.connector(cfg.MigrationTimeout + readTimeoutMargin)
			if err != nil {
				return nil, err
			}
			return sql.OpenDB(conn), nil
		},
		migrations: pgMigrations,
	}
	if !cfg.SimpleProtocol {
		s.stmts = newStmtCache()
	}
	alone := migrateAlonePostgres(listenTarget)
	s.migrateAlone = func(ctx context.Context, mig migrate.Migration, up bool) ([]string, error) {
		return alone(ctx, s, mig, up)
	}
	listen := listenPostgres(listenTarget)
	s.notifications = func(ctx context.Context, l CommitListener) { listen(ctx, s, l) }
	return s, nil
}

// pgTarget is a PostgreSQL server and how to log in to it, parsed from a
// postgres:// URL.
//
// The URL is parsed here rather than by pgdriver.WithDSN for two reasons:
// pgdriver turns every parameter it does not know into a SET run on each new
// connection, session state that PgBouncer in transaction pooling mode
// would hand to other clients; and its sslmode handling is not libpq's
// (see tlsConfig).
type pgTarget struct {
	network, addr  string
	user, password string
	database       string
	appName        string
	dialTimeout    time.Duration
	tls            tlsSettings
}

// pgParams are the URL query parameters Open understands; any other is an
// error rather than silently ignored.
var pgParams = map[string]bool{
	"sslmode": true, "sslrootcert": true, "sslcert": true, "sslkey": true,
	"connect_timeout": true, "application_name": true, "host": true, "port": true,
	"user": true, "password": true, "dbname": true,
	// pgdriver cannot do SCRAM channel binding; the parameter is accepted
	// so provider URLs (Neon's carry channel_binding=require) work. Use
	// sslmode=verify-full to authenticate the server.
	"channel_binding": true,
}

func parsePostgresURL(u *url.URL) (pgTarget, error) {
	q := u.Query()
	for k := range q {
		if !pgParams[k] {
			return pgTarget{}, invalidURL("unsupported parameter %q", k)
		}
	}
	t := pgTarget{
		network:     "tcp",
		user:        "postgres",
		database:    "postgres",
		appName:     q.Get("application_name"),
		dialTimeout: defaultDialTimeout,
	}
	host, port := u.Hostname(), u.Port()
	if h := q.Get("host"); h != "" {
		host = h
	}
	if p := q.Get("port"); p != "" {
		port = p
	}
	if host == "" {
		host = "localhost"
	}
	if strings.Contains(host, ",") {
		return pgTarget{}, invalidURL("several hosts are not supported")
	}
	if port == "" {
		port = "5432"
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return pgTarget{}, invalidURL("bad port %q", port)
	}
	if strings.HasPrefix(host, "/") {
		t.network, t.addr = "unix", host+"/.s.PGSQL."+port
	} else {
		t.addr = net.JoinHostPort(host, port)
	}
	if u.User != nil && u.User.Username() != "" {
		t.user = u.User.Username()
	}
	if v := q.Get("user"); v != "" {
		t.user = v
	}
	if u.User != nil {
		t.password, _ = u.User.Password()
	}
	if v := q.Get("password"); v != "" {
		t.password = v
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		t.database = db
	}
	if v := q.Get("dbname"); v != "" {
		t.database = v
	}
	if v := q.Get("connect_timeout"); v != "" {
		secs, err := strconv.Atoi(v)
		if err != nil || secs < 0 {
			return pgTarget{}, invalidURL("bad connect_timeout %q", v)
		}
		if secs > 0 { // libpq: 0 means wait forever; keep the default bound
			t.dialTimeout = time.Duration(secs) * time.Second
		}
	}
	if t.network == "unix" {
		// libpq never uses TLS on a Unix socket.
		t.tls = tlsSettings{mode: "disable"}
		return t, nil
	}
	mode := q.Get("sslmode")
	if mode == "" {
		mode = "prefer" // libpq's default
	}
	t.tls = tlsSettings{
		mode:       mode,
		serverName: host,
		rootCert:   q.Get("sslrootcert"),
		cert:       q.Get("sslcert"),
		key:        q.Get("sslkey"),
	}
	if _, _, err := t.tls.config(); err != nil {
		return pgTarget{}, err
	}
	return t, nil
}

// connector returns a driver.Connector for the target whose socket reads
// time out after readTimeout (pgdriver's own default is 10 seconds): longer
// than any statement may run on the server, so a slow statement ends with
// the server's statement_timeout error and the connection survives, while
// a dead connection is still noticed.
func (t pgTarget) connector(readTimeout time.Duration) (driver.Connector, error) {
	tlsConf, fallback, err := t.tls.config()
	if err != nil {
		return nil, err
	}
	opts := []pgdriver.Option{
		pgdriver.WithNetwork(t.network),
		pgdriver.WithAddr(t.addr),
		pgdriver.WithUser(t.user),
		pgdriver.WithPassword(t.password),
		pgdriver.WithDatabase(t.database),
		pgdriver.WithApplicationName(t.appName),
		pgdriver.WithDialTimeout(t.dialTimeout),
		pgdriver.WithReadTimeout(readTimeout),
		pgdriver.WithWriteTimeout(defaultSocketWriteTimeout),
		pgdriver.WithTLSConfig(tlsConf),
	}
	secure := newClosingConnector(opts, t.dialTimeout)
	if !fallback {
		return secure, nil
	}
	plain := newClosingConnector(append(opts, pgdriver.WithTLSConfig(nil)), t.dialTimeout)
	return preferConnector{secure: secure, plain: plain}, nil
}

// closingConnector is a pgdriver.Connector that closes the socket of a
// connection attempt that fails after the dial. pgdriver v1.2.18 leaves it
// open when TLS negotiation or the startup fails (a refused TLS request, a
// wrong password, "too many connections"), to be closed whenever the
// garbage collector finalizes it.
type closingConnector struct {
	*pgdriver.Connector
}

type dialedKey struct{}

func newClosingConnector(opts []pgdriver.Option, dialTimeout time.Duration) closingConnector {
	c := pgdriver.NewConnector(opts...)
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 5 * time.Minute}
	c.Config().Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if slot, ok := ctx.Value(dialedKey{}).(*net.Conn); ok && err == nil {
			*slot = conn
		}
		return conn, err
	}
	return closingConnector{c}
}

func (c closingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	var dialed net.Conn
	cn, err := c.Connector.Connect(context.WithValue(ctx, dialedKey{}, &dialed))
	if err != nil && dialed != nil {
		_ = dialed.Close()
	}
	return cn, err
}

// preferConnector is sslmode=prefer: TLS when the server offers it,
// plaintext when it does not. pgdriver has no such mode; it fails with
// errNoServerTLS when the server declines TLS.
type preferConnector struct {
	secure, plain closingConnector
}

// errNoServerTLS is the text of pgdriver v1.2.18's error when a server
// answers the SSLRequest with 'N'.
const errNoServerTLS = "pgdriver: SSL is not enabled on the server"

func (c preferConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.secure.Connect(ctx)
	if err != nil && strings.Contains(err.Error(), errNoServerTLS) {
		return c.plain.Connect(ctx)
	}
	return cn, err
}

func (c preferConnector) Driver() driver.Driver { return c.secure.Driver() }

// resolve returns the one of c's connectors that works with the server,
// for a client that dials with its connector directly (pgdriver's
// Listener takes the driver's connector, which is the secure one).
func (c preferConnector) resolve(ctx context.Context) driver.Connector {
	cn, err := c.secure.Connect(ctx)
	if err != nil && strings.Contains(err.Error(), errNoServerTLS) {
		return c.plain
	}
	if err == nil {
		_ = cn.Close()
	}
	return c.secure
}
