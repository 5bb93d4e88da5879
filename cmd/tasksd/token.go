package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// runToken mints an HS256 token for `buf curl` and local testing, signed
// with AUTH_JWT_SECRET or, when that is unset, dev mode's secret in
// DATA_DIR.
func runToken(args []string, getenv func(string) string, stdout io.Writer) error {
	var sub string
	var ttl time.Duration
	cfg, err := parseConfig("tasksd token", args, getenv, parseOptions{flags: func(fs *flag.FlagSet) {
		fs.StringVar(&sub, "sub", devUser, "the token's subject: the user whose tasks it reaches")
		fs.DurationVar(&ttl, "ttl", time.Hour, "how long the token is valid")
	}})
	if err != nil {
		return err
	}
	if ttl <= 0 {
		return errors.New("-ttl must be positive")
	}
	if cfg.JWTSecret == "" {
		data, err := os.ReadFile(filepath.Join(cfg.DataDir, devSecretFile))
		if err != nil {
			return errors.New("no secret: set AUTH_JWT_SECRET, or run `tasksd dev` once to create a dev secret in DATA_DIR")
		}
		cfg.JWTSecret = strings.TrimSpace(string(data))
	}
	token, err := mintToken(cfg, sub, ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	return nil
}
