package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := parseConfig("test", nil, envMap(nil), parseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != ":8080" || c.DataDir != "data" || c.MaxRequestBytes != 1<<20 ||
		c.CallTimeout != 30*time.Second || c.ClockSkew != 30*time.Second || c.DBMaxConns != 10 {
		t.Errorf("unexpected defaults: %+v", c)
	}
	if err := c.requireAuthSource(); err == nil {
		t.Error("no auth source must be an error outside dev mode")
	}
}

func TestParseConfigPrecedence(t *testing.T) {
	t.Parallel()
	env := envMap(map[string]string{
		"PORT":                 "9000",
		"AUTH_JWT_SECRET":      "from-env",
		"CORS_ALLOWED_ORIGINS": "https://app.example.com/, http://localhost:3000",
		"LOG_LEVEL":            "debug",
	})
	c, err := parseConfig("test", []string{"-auth-jwt-secret", "from-flag"}, env, parseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != ":9000" {
		t.Errorf("PORT alone: ListenAddr = %q, want :9000", c.ListenAddr)
	}
	if c.JWTSecret != "from-flag" {
		t.Errorf("flag must win over env: got %q", c.JWTSecret)
	}
	if got := strings.Join(c.CORSOrigins, " "); got != "https://app.example.com http://localhost:3000" {
		t.Errorf("CORSOrigins = %q", got)
	}
	if err := c.requireAuthSource(); err != nil {
		t.Error(err)
	}

	c, err = parseConfig("test", nil, envMap(map[string]string{"PORT": "9000", "LISTEN_ADDR": "127.0.0.1:7000"}), parseOptions{})
	if err != nil || c.ListenAddr != "127.0.0.1:7000" {
		t.Errorf("LISTEN_ADDR must win over PORT: %q, %v", c.ListenAddr, err)
	}
	c, err = parseConfig("test", nil, envMap(nil), parseOptions{listenAddr: "localhost:8080"})
	if err != nil || c.ListenAddr != "localhost:8080" {
		t.Errorf("dev default: %q, %v", c.ListenAddr, err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{env: map[string]string{"LISTEN_ADDR": "8080"}, want: "LISTEN_ADDR"},
		{env: map[string]string{"LISTEN_ADDR": "localhost:99999"}, want: "LISTEN_ADDR"},
		{env: map[string]string{"CALL_TIMEOUT": "soon"}, want: "CALL_TIMEOUT"},
		{env: map[string]string{"DB_STATEMENT_TIMEOUT": "-1s"}, want: "DB_STATEMENT_TIMEOUT"},
		{env: map[string]string{"DB_MAX_CONNS": "0"}, want: "DB_MAX_CONNS"},
		{env: map[string]string{"MAX_REQUEST_BYTES": "ten"}, want: "MAX_REQUEST_BYTES"},
		{env: map[string]string{"MAX_IN_FLIGHT": "0"}, want: "MAX_IN_FLIGHT"},
		{env: map[string]string{"DEBUG_ADDR": "6060"}, want: "DEBUG_ADDR"},
		{env: map[string]string{"LOG_LEVEL": "loud"}, want: "LOG_LEVEL"},
		{env: map[string]string{"LOG_FORMAT": "xml"}, want: "LOG_FORMAT"},
		{env: map[string]string{"TLS_CERT_FILE": "cert.pem"}, want: "TLS_KEY_FILE go together"},
		{env: map[string]string{"CORS_ALLOWED_ORIGINS": "app.example.com"}, want: "CORS_ALLOWED_ORIGINS"},
		{env: map[string]string{"AUTH_CLOCK_SKEW": "-5s"}, want: "AUTH_CLOCK_SKEW"},
		{env: map[string]string{"AUTH_CLOCK_SKEW": "x"}, want: "AUTH_CLOCK_SKEW"},
		{env: map[string]string{"PORT": "abc"}, want: `LISTEN_ADDR: bad port in ":abc"`},
		{env: map[string]string{"LISTEN_ADDR": " ", "PORT": "x"}, want: `LISTEN_ADDR: bad port in ":x"`},
		{env: map[string]string{"SHUTDOWN_TIMEOUT": "0"}, want: "SHUTDOWN_TIMEOUT"},
		{env: map[string]string{"HEALTH_INTERVAL": "x"}, want: "HEALTH_INTERVAL"},
		{env: map[string]string{"MAX_REQUEST_BYTES": "1023"}, want: "MAX_REQUEST_BYTES"},
		{env: map[string]string{"DB_MAX_CONNS": "1.5"}, want: "DB_MAX_CONNS"},
		{env: map[string]string{"DATA_DIR": "  "}, want: "DATA_DIR: must not be empty"},
		{args: []string{"-data-dir", ""}, want: "DATA_DIR: must not be empty"},
		{env: map[string]string{"TLS_KEY_FILE": "key.pem"}, want: "TLS_CERT_FILE and TLS_KEY_FILE go together"},
		{args: []string{"-call-timeout", "soon"}, want: `CALL_TIMEOUT: want a positive duration like 5s, got "soon"`},
		{env: map[string]string{"CALL_TIMEOUT": "1s"}, args: []string{"-call-timeout=0"}, want: "CALL_TIMEOUT"},
		{args: []string{"-log-format=xml"}, want: "LOG_FORMAT"},
		{args: []string{"-no-such-flag"}, want: "no-such-flag"},
		{args: []string{"stray"}, want: "unexpected argument"},
	} {
		_, err := parseConfig("test", tc.args, envMap(tc.env), parseOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: got %v, want an error mentioning %q", tc.env, tc.args, err, tc.want)
		}
	}
}

// TestSettingsDocumented keeps README.md's configuration table and
// .env.example listing every setting.
func TestSettingsDocumented(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"../../README.md", "../../.env.example"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range new(config).settings("") {
			if !strings.Contains(string(data), s.env) {
				t.Errorf("%s does not mention %s", file, s.env)
			}
		}
	}
}
