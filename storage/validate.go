package storage

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/example/tasks/service"
)

// The limits of the schema, checked here with plain messages and again by
// the database's constraints.
const (
	maxUserIDLen      = 255
	maxTitleLen       = 200
	maxDescriptionLen = 4000
	maxTags           = 16
	maxTagLen         = 32
)

func invalid(format string, args ...any) error {
	return service.Errorf(service.KindInvalid, format, args...)
}

// checkUser rejects a user id the store cannot keep. The service never
// passes an empty one, so that is a bug, not a bad request.
func checkUser(userID string) error {
	switch {
	case userID == "":
		return service.Errorf(service.KindInternal, "no user")
	case utf8.RuneCountInString(userID) > maxUserIDLen, strings.ContainsRune(userID, 0):
		return invalid("user id is too long")
	}
	return nil
}

// parseID returns a task id in its canonical form, or false when s is not
// a UUID (and so no task's id).
func parseID(s string) (string, bool) {
	id, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return id.String(), true
}

// checkRequestID returns a request id in its canonical lowercase form, so
// that the same UUID written differently is the same request.
func checkRequestID(s string) (*string, error) {
	if s == "" {
		return nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return nil, invalid("request_id must be a UUID")
	}
	canonical := id.String()
	return &canonical, nil
}

func checkTitle(title string) (string, error) {
	title = service.NormalizeTitle(title)
	switch {
	case title == "":
		return "", invalid("title must not be empty")
	case utf8.RuneCountInString(title) > maxTitleLen:
		return "", invalid("title must be at most %d characters", maxTitleLen)
	case strings.ContainsRune(title, 0):
		return "", invalid("title must not contain NUL characters")
	}
	return title, nil
}

func checkDescription(d string) error {
	switch {
	case utf8.RuneCountInString(d) > maxDescriptionLen:
		return invalid("description must be at most %d characters", maxDescriptionLen)
	case strings.ContainsRune(d, 0):
		return invalid("description must not contain NUL characters")
	}
	return nil
}

func checkPriority(p service.Priority) error {
	if p < service.PriorityUnspecified || p > service.PriorityHigh {
		return invalid("priority %d is not a defined value", p)
	}
	return nil
}

func checkTags(tags []string) (tagList, error) {
	if len(tags) > maxTags {
		return nil, invalid("at most %d tags", maxTags)
	}
	norm, err := service.NormalizeTags(tags)
	if err != nil {
		return nil, err
	}
	for _, t := range norm {
		if n := utf8.RuneCountInString(t); n < 1 || n > maxTagLen || strings.ContainsRune(t, 0) {
			return nil, invalid("tag %q must be 1 to %d characters", t, maxTagLen)
		}
	}
	return tagList(norm), nil
}

// checkTime rejects times outside what a protobuf Timestamp can hold
// (years 1 to 9999) and rounds the rest to what the database keeps.
func checkTime(name string, t time.Time) (dbTime, error) {
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return dbTime{}, invalid("%s is out of range", name)
	}
	return someTime(t), nil
}
