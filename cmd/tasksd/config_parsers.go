package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parser checks one setting's value, already trimmed, and stores it in the
// config field it is bound to. Its error says what was wanted and what was
// given; parseConfig adds the setting's name.
type parser func(string) error

// settingErrors names the setting in err, or in each error err joins, so
// that every line of the message says which setting to fix.
func settingErrors(env string, err error) []error {
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	named := make([]error, len(errs))
	for i, e := range errs {
		named[i] = fmt.Errorf("%s: %w", env, e)
	}
	return named
}

// str is a string setting that takes any value, empty included.
func str(dst *string) parser {
	return func(v string) error {
		*dst = v
		return nil
	}
}

// required is a string setting with no meaning when empty.
func required(dst *string) parser {
	return func(v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		*dst = v
		return nil
	}
}

// boolean is true or false (strconv.ParseBool's spellings: 1, t, TRUE, ...).
func boolean(dst *bool) parser {
	return func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		*dst = b
		return nil
	}
}

// oneOf is a string setting with a fixed set of values.
func oneOf(dst *string, choices ...string) parser {
	return func(v string) error {
		if !slices.Contains(choices, v) {
			return fmt.Errorf("want %s, got %q", orList(choices), v)
		}
		*dst = v
		return nil
	}
}

// duration is a timeout or an interval. Zero is refused rather than read
// as "no limit", so no setting turns a limit off by accident.
func duration(dst *time.Duration) parser {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("want a positive duration like 5s, got %q", v)
		}
		*dst = d
		return nil
	}
}

// nonNegativeDuration is a tolerance, where zero means none.
func nonNegativeDuration(dst *time.Duration) parser {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration like 30s, got %q", v)
		}
		*dst = d
		return nil
	}
}

// positiveInt is a count of something the server needs at least one of.
func positiveInt(dst *int) parser { return intAtLeast(dst, 1, "a positive number") }

// nonNegativeInt is a count where zero means none, or "work it out".
func nonNegativeInt(dst *int) parser { return intAtLeast(dst, 0, "a number, 0 or more") }

// intAtLeast is a whole number no smaller than floor; want says so in
// the error.
func intAtLeast(dst *int, floor int, want string) parser {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < floor {
			return fmt.Errorf("want %s, got %q", want, v)
		}
		*dst = n
		return nil
	}
}

// bytesAtLeast is a size in bytes, no smaller than floor.
func bytesAtLeast(dst *int64, floor int64) parser {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < floor {
			return fmt.Errorf("want a number of bytes of at least %d, got %q", floor, v)
		}
		*dst = n
		return nil
	}
}

// logLevel accepts what slog.Level's UnmarshalText does (also "DEBUG" or
// "warn+2"), but names only the four levels.
func logLevel(dst *slog.Level) parser {
	return func(v string) error {
		if err := dst.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("want %s, got %q", orList([]string{"debug", "info", "warn", "error"}), v)
		}
		return nil
	}
}

// listenAddr is the server's own address, never empty: unset, it is
// fallback. Its port must be a number (0 picks a free one), so a mistyped
// port fails here rather than when the server starts.
func listenAddr(dst *string, fallback string) parser {
	return func(v string) error {
		if v == "" {
			v = fallback
		}
		_, port, err := net.SplitHostPort(v)
		if err != nil {
			return errWantHostPort(v)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("bad port in %q", v)
		}
		*dst = v
		return nil
	}
}

// optionalAddr is the address of a listener that is off when empty.
func optionalAddr(dst *string) parser {
	return func(v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return errWantHostPort(v)
			}
		}
		*dst = v
		return nil
	}
}

func errWantHostPort(v string) error {
	return fmt.Errorf("want host:port, got %q", v)
}

// origins is a comma-separated list of browser origins, or "*" for any.
// A trailing slash is dropped because a browser's Origin header never has
// one, so an origin copied from the address bar still matches.
func origins(dst *[]string) parser {
	return func(v string) error {
		var list []string
		var errs []error
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o == "" {
				continue
			}
			if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
				errs = append(errs, fmt.Errorf("origin %q must start with http:// or https://", o))
			}
			list = append(list, strings.TrimRight(o, "/"))
		}
		*dst = list
		return errors.Join(errs...)
	}
}

// orList writes choices as prose: "a, b or c".
func orList(choices []string) string {
	if len(choices) < 2 {
		return strings.Join(choices, "")
	}
	return strings.Join(choices[:len(choices)-1], ", ") + " or " + choices[len(choices)-1]
}
