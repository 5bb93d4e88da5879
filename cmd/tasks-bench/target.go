package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"
)

// targetFlags say which server a command loads: one it starts (-server)
// or one already running (-url), and how it gets the tool's tokens.
type targetFlags struct {
	url, serverBin, databaseURL, keyFile, jwksAddr string
	dbMaxConns, pgPID                              int
	serverLog, serverEnv                           string
}

func (t *targetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.url, "url", "", "target a running server at this base URL (its AUTH_JWKS_URL must serve -key's JWKS)")
	fs.StringVar(&t.serverBin, "server", "", "start this tasksd binary instead of using -url")
	fs.StringVar(&t.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "DATABASE_URL for the started server")
	fs.IntVar(&t.dbMaxConns, "db-max-conns", 32, "DB_MAX_CONNS for the started server")
	fs.IntVar(&t.pgPID, "pg-pid", 0, "PostgreSQL's postmaster pid, to report the database's CPU time per call")
	fs.StringVar(&t.serverLog, "server-log", "", "file for the started server's log (default: stderr)")
	fs.StringVar(&t.serverEnv, "server-env", "", "comma-separated KEY=VALUE settings for the started server, e.g. GOGC=200")
	fs.StringVar(&t.keyFile, "key", "", "Ed25519 key file (created when missing); default: a new key per run")
	fs.StringVar(&t.jwksAddr, "jwks-addr", "127.0.0.1:0", "where the tool serves its JWKS")
}

func (t *targetFlags) check() error {
	if (t.url == "") == (t.serverBin == "") {
		return errors.New("give exactly one of -url and -server")
	}
	if t.serverBin != "" && t.databaseURL == "" {
		return errors.New("-server needs -database-url")
	}
	return nil
}

// target is the server under load and what the tool runs beside it.
type target struct {
	id      *identity
	baseURL string
	srv     *server     // nil for -url
	mem     *memSampler // nil for -url
	close   func()
}

// start serves the JWKS and, with -server, starts tasksd (with a pprof
// listener when debug is set) and samples its memory.
func (t *targetFlags) start(ctx context.Context, debug bool) (*target, error) {
	id, err := loadIdentity(t.keyFile)
	if err != nil {
		return nil, err
	}
	ln, jwksURL, err := id.serveJWKS(t.jwksAddr)
	if err != nil {
		return nil, err
	}
	tg := &target{id: id, baseURL: t.url, close: func() { ln.Close() }}
	if t.serverBin == "" {
		return tg, nil
	}
	srv, err := startServer(ctx, serverConfig{
		bin: t.serverBin, databaseURL: t.databaseURL, jwksURL: jwksURL,
		dbMaxConns: t.dbMaxConns, debug: debug, logFile: t.serverLog,
		extraEnv: splitEnv(t.serverEnv),
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	tg.srv, tg.baseURL = srv, srv.url
	tg.mem = sampleMemory(srv.pid(), 100*time.Millisecond)
	tg.close = func() {
		tg.mem.close()
		srv.stop()
		ln.Close()
	}
	fmt.Fprintf(os.Stderr, "started tasksd (pid %d) at %s\n", srv.pid(), tg.baseURL)
	if srv.debugURL != "" {
		fmt.Fprintf(os.Stderr, "its pprof: %s/debug/pprof/\n", srv.debugURL)
	}
	return tg, nil
}
