package main

import (
	"log/slog"
	"reflect"
	"testing"
	"time"
)

// into runs a parser bound to a fresh destination and returns what it
// stored.
func into[T any](bind func(*T) parser) func(string) (any, error) {
	return func(v string) (any, error) {
		var dst T
		err := bind(&dst)(v)
		return dst, err
	}
}

// TestConfigParsers pins each kind of value: what it stores, and the exact
// message for what it refuses (parseConfig prefixes the setting's name).
func TestConfigParsers(t *testing.T) {
	t.Parallel()
	var (
		str          = into(str)
		required     = into(required)
		format       = into(func(d *string) parser { return oneOf(d, "text", "json") })
		duration     = into(duration)
		nonNegative  = into(nonNegativeDuration)
		positiveInt  = into(positiveInt)
		nonNegInt    = into(nonNegativeInt)
		bytes        = into(func(d *int64) parser { return bytesAtLeast(d, 1024) })
		logLevel     = into(logLevel)
		listen       = into(func(d *string) parser { return listenAddr(d, ":8080") })
		badFallback  = into(func(d *string) parser { return listenAddr(d, ":x") })
		optionalAddr = into(optionalAddr)
		origins      = into(origins)
	)
	for _, tc := range []struct {
		name    string
		parse   func(string) (any, error)
		in      string
		want    any
		wantErr string
	}{
		{name: "str empty", parse: str, in: "", want: ""},
		{name: "str", parse: str, in: "x", want: "x"},
		{name: "required", parse: required, in: "data", want: "data"},
		{name: "required empty", parse: required, in: "", wantErr: "must not be empty"},
		{name: "oneOf", parse: format, in: "json", want: "json"},
		{name: "oneOf other", parse: format, in: "xml", wantErr: `want text or json, got "xml"`},
		{name: "oneOf case", parse: format, in: "JSON", wantErr: `want text or json, got "JSON"`},
		{name: "duration", parse: duration, in: "1ns", want: time.Nanosecond},
		{name: "duration word", parse: duration, in: "soon", wantErr: `want a positive duration like 5s, got "soon"`},
		{name: "duration no unit", parse: duration, in: "5", wantErr: `want a positive duration like 5s, got "5"`},
		{name: "duration zero", parse: duration, in: "0", wantErr: `want a positive duration like 5s, got "0"`},
		{name: "duration negative", parse: duration, in: "-1s", wantErr: `want a positive duration like 5s, got "-1s"`},
		{name: "nonNegativeDuration zero", parse: nonNegative, in: "0", want: time.Duration(0)},
		{name: "nonNegativeDuration", parse: nonNegative, in: "1m", want: time.Minute},
		{name: "nonNegativeDuration word", parse: nonNegative, in: "x", wantErr: `want a duration like 30s, got "x"`},
		{name: "nonNegativeDuration negative", parse: nonNegative, in: "-5s", wantErr: `want a duration like 30s, got "-5s"`},
		{name: "positiveInt", parse: positiveInt, in: "7", want: 7},
		{name: "positiveInt zero", parse: positiveInt, in: "0", wantErr: `want a positive number, got "0"`},
		{name: "positiveInt fraction", parse: positiveInt, in: "1.5", wantErr: `want a positive number, got "1.5"`},
		{name: "positiveInt empty", parse: positiveInt, in: "", wantErr: `want a positive number, got ""`},
		{name: "nonNegativeInt zero", parse: nonNegInt, in: "0", want: 0},
		{name: "nonNegativeInt", parse: nonNegInt, in: "12", want: 12},
		{name: "nonNegativeInt negative", parse: nonNegInt, in: "-1", wantErr: `want a number, 0 or more, got "-1"`},
		{name: "nonNegativeInt word", parse: nonNegInt, in: "off", wantErr: `want a number, 0 or more, got "off"`},
		{name: "bytesAtLeast floor", parse: bytes, in: "1024", want: int64(1024)},
		{name: "bytesAtLeast below", parse: bytes, in: "1023", wantErr: `want a number of bytes of at least 1024, got "1023"`},
		{name: "bytesAtLeast word", parse: bytes, in: "ten", wantErr: `want a number of bytes of at least 1024, got "ten"`},
		{name: "bytesAtLeast overflow", parse: bytes, in: "99999999999999999999", wantErr: `want a number of bytes of at least 1024, got "99999999999999999999"`},
		{name: "logLevel", parse: logLevel, in: "warn", want: slog.LevelWarn},
		{name: "logLevel upper", parse: logLevel, in: "DEBUG", want: slog.LevelDebug},
		{name: "logLevel word", parse: logLevel, in: "loud", wantErr: `want debug, info, warn or error, got "loud"`},
		{name: "listenAddr", parse: listen, in: "127.0.0.1:0", want: "127.0.0.1:0"},
		{name: "listenAddr fallback", parse: listen, in: "", want: ":8080"},
		{name: "listenAddr no port", parse: listen, in: "8080", wantErr: `want host:port, got "8080"`},
		{name: "listenAddr port too big", parse: listen, in: "localhost:99999", wantErr: `bad port in "localhost:99999"`},
		{name: "listenAddr port name", parse: listen, in: ":http", wantErr: `bad port in ":http"`},
		{name: "listenAddr bad fallback", parse: badFallback, in: "", wantErr: `bad port in ":x"`},
		{name: "optionalAddr off", parse: optionalAddr, in: "", want: ""},
		{name: "optionalAddr", parse: optionalAddr, in: "localhost:6060", want: "localhost:6060"},
		{name: "optionalAddr no port", parse: optionalAddr, in: "6060", wantErr: `want host:port, got "6060"`},
		{name: "origins none", parse: origins, in: " , ", want: []string(nil)},
		{name: "origins", parse: origins, in: "https://app.example.com/, *,http://localhost:3000", want: []string{"https://app.example.com", "*", "http://localhost:3000"}},
		{name: "origins no scheme", parse: origins, in: "app.example.com", wantErr: `origin "app.example.com" must start with http:// or https://`},
		{name: "origins each bad one", parse: origins, in: "a,https://ok,ftp://b", wantErr: "origin \"a\" must start with http:// or https://\norigin \"ftp://b\" must start with http:// or https://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.parse(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("%q: got error %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q: got %#v, %v; want %#v", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestSettingsErrorNamesEachLine: a setting that finds several faults names
// itself on each line of the message.
func TestSettingsErrorNamesEachLine(t *testing.T) {
	t.Parallel()
	_, err := parseConfig("test", nil, envMap(map[string]string{"CORS_ALLOWED_ORIGINS": "a,ftp://b"}), parseOptions{})
	want := "CORS_ALLOWED_ORIGINS: origin \"a\" must start with http:// or https://\n" +
		"CORS_ALLOWED_ORIGINS: origin \"ftp://b\" must start with http:// or https://"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}
