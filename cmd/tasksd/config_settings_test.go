package main

import (
	"bytes"
	"errors"
	"flag"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestSettingsFlags pins the flag names users already type: deriving them
// from the variables must not rename any.
func TestSettingsFlags(t *testing.T) {
	t.Parallel()
	want := []string{
		"listen-addr", "data-dir", "database-url", "database-listen-url", "db-max-conns", "db-statement-timeout",
		"db-prepared-statements", "change-retention", "max-tasks-per-user",
		"auth-jwks-url", "auth-jwt-secret", "auth-issuer", "auth-audience", "auth-clock-skew",
		"cors-allowed-origins", "tls-cert-file", "tls-key-file", "log-level", "log-format",
		"max-request-bytes", "max-in-flight", "max-in-flight-per-user", "rate-limit-per-user", "call-timeout",
		"body-read-timeout", "header-read-timeout", "idle-timeout", "max-connections", "shutdown-timeout",
		"health-interval", "health-watch-max", "watch-heartbeat", "watch-max-duration", "watch-max-per-user", "watch-max",
		"debug-addr", "ready-file",
	}
	var got []string
	for _, s := range new(config).settings("") {
		got = append(got, s.flag())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flags = %q\nwant %q", got, want)
	}
}

// TestSettingsHelp: `-h` lists every setting's flag with its variable,
// usage and default, as README.md tells users to look there.
func TestSettingsHelp(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	_, err := parseConfig("tasksd serve", []string{"-h"}, envMap(map[string]string{"DATA_DIR": "/srv/tasks"}),
		parseOptions{flags: func(fs *flag.FlagSet) { fs.SetOutput(&out) }})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: got %v, want flag.ErrHelp", err)
	}
	// Each flag's entry starts at "  -name" and runs to the next one.
	entries := map[string]string{}
	for _, e := range strings.Split(out.String(), "\n  -")[1:] {
		name, _, _ := strings.Cut(e, " ")
		entries[name] = e
	}
	for _, s := range new(config).settings("") {
		e, ok := entries[s.flag()]
		if !ok {
			t.Errorf("-h does not list -%s", s.flag())
			continue
		}
		def := s.def
		if s.env == "DATA_DIR" {
			def = "/srv/tasks" // the environment is the flag's default
		}
		for _, want := range []string{s.usage, "($" + s.env + ")"} {
			if !strings.Contains(e, want) {
				t.Errorf("-h entry of -%s lacks %q:\n%s", s.flag(), want, e)
			}
		}
		if hasDefault := strings.Contains(e, "(default "+strconv.Quote(def)+")"); hasDefault != (def != "") {
			t.Errorf("-h entry of -%s: want default %q:\n%s", s.flag(), def, e)
		}
	}
}

// TestSettingsBindEachField: every config field is set by exactly one
// setting, so a row bound to the wrong field (or a field with no row) shows.
func TestSettingsBindEachField(t *testing.T) {
	t.Parallel()
	// A value each kind of parser accepts, tried in turn until one is, and
	// none of them a field's zero value.
	samples := []string{"127.0.0.1:1", "https://x", "json", "warn", "1h", "2048", "true"}
	bound := map[string]string{} // field → setting
	n := len(new(config).settings(""))
	for i := range n {
		var c config
		s := c.settings("")[i]
		var err error
		for _, v := range samples {
			if err = s.parse(v); err == nil {
				break
			}
		}
		if err != nil {
			t.Errorf("%s accepts none of %q", s.env, samples)
			continue
		}
		var set []string
		v := reflect.ValueOf(c)
		for f := range v.NumField() {
			if !v.Field(f).IsZero() {
				set = append(set, v.Type().Field(f).Name)
			}
		}
		if len(set) != 1 {
			t.Errorf("%s sets fields %q, want one", s.env, set)
			continue
		}
		if other, dup := bound[set[0]]; dup {
			t.Errorf("%s and %s both set %s", other, s.env, set[0])
		}
		bound[set[0]] = s.env
	}
	for f := range reflect.TypeFor[config]().NumField() {
		field := reflect.TypeFor[config]().Field(f)
		if !field.IsExported() {
			continue // set by tests, not by users: no setting
		}
		if name := field.Name; bound[name] == "" {
			t.Errorf("no setting sets config.%s", name)
		}
	}
}
