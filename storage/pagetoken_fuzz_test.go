package storage

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/example/tasks"
)

// The fuzz targets of page tokens and change cursors run the pure sealing
// and opening functions under a fixed key; Store.pageKey only loads that key
// from the database.

// fuzzKey is the key every fuzz target seals and opens with.
var fuzzKey = pageKey(bytes.Repeat([]byte{0x5a}, pageKeyLen))

// fuzzBinding is the binding FuzzPageToken opens its raw tokens against.
var fuzzBinding = tokenBinding{userID: "alice", order: tasks.OrderCreateTimeDesc}

// FuzzPageToken checks page tokens three ways. A raw token opens under
// fuzzBinding only if it is exactly the token sealing its cursor gives
// (tokens are not malleable), and is otherwise refused as an invalid
// page_token. A payload sealed under binding a (what a leaked key could
// make) opens only if it is a cursor, and then re-seals to a token that
// opens to the same cursor. And that token opens under binding b exactly
// when b is a's user, order and filter after normalisation: a token never
// opens for another user, filter or order. It never opens as a change
// cursor either.
func FuzzPageToken(f *testing.F) {
	id := "0195f0c2-7a51-7cc4-9f5e-3c2b1a0d9e8f"
	for _, c := range []cursor{
		{Time: 1767225600000000, ID: id},
		{NoDue: true, ID: id},
		{Priority: 3, Time: -62135596800000000, ID: id},
		{Title: "Write the report", ID: id},
		{Title: strings.Repeat("é", tasks.MaxTitleLen), ID: id},
	} {
		f.Add(fuzzKey.seal(c, fuzzBinding), []byte(`{"i":"`+id+`"}`),
			"alice", "work", "milk", uint8(1), uint8(0), int64(0), int64(0),
			"alice", "work", "milk", uint8(1), uint8(0), int64(0), int64(0))
	}
	f.Add(fuzzKey.seal(cursor{ID: id}, tokenBinding{userID: "bob"}), []byte(`{"t":1,"i":"`+strings.ToUpper(id)+`"}`),
		"alice", "", "", uint8(6), uint8(0x3f), int64(1767225600123456789), int64(-1),
		"alice", "", "", uint8(6), uint8(0x3f), int64(1767225600123456789), int64(-1))
	f.Fuzz(func(t *testing.T, token string, payload []byte,
		userA, tagA, queryA string, orderA, flagsA uint8, beforeA, afterA int64,
		userB, tagB, queryB string, orderB, flagsB uint8, beforeB, afterB int64,
	) {
		c, err := fuzzKey.open(token, fuzzBinding)
		mustOpenExactly(t, token, c, err, "page_token", "invalid page token", func(c cursor) string { return fuzzKey.seal(c, fuzzBinding) })

		a, okA := fuzzTokenBinding(userA, tagA, queryA, orderA, flagsA, beforeA, afterA)
		b, okB := fuzzTokenBinding(userB, tagB, queryB, orderB, flagsB, beforeB, afterB)
		if !okA || !okB {
			return
		}
		sealed := fuzzKey.sealBytes(pageTokenLabel, a.parts(), payload)
		c, err = fuzzKey.open(sealed, a)
		if err != nil {
			mustBeInvalid(t, err, "page_token", "invalid page token")
			if _, err := fuzzKey.open(sealed, b); err == nil {
				t.Fatalf("payload %q opens under %+v but not under %+v", payload, b, a)
			}
			return
		}
		if uuid.Validate(c.ID) != nil {
			t.Fatalf("payload %q opened to %+v, whose id is not a UUID", payload, c)
		}
		resealed := fuzzKey.seal(c, a)
		if again, err := fuzzKey.open(resealed, a); err != nil || again != c {
			t.Fatalf("cursor %+v sealed to %q, which opens to %+v, %v", c, resealed, again, err)
		}
		if _, err := fuzzKey.openCursor(resealed, a.userID); err == nil {
			t.Fatalf("page token %q opens as a change cursor", resealed)
		}
		got, err := fuzzKey.open(resealed, b)
		switch same := sameBinding(a, b); {
		case same && (err != nil || got != c):
			t.Fatalf("token of %+v under the same binding %+v: %+v, %v", a, b, got, err)
		case !same && err == nil:
			t.Fatalf("token of %+v opens under %+v", a, b)
		}
	})
}

// fuzzTokenBinding makes the binding ListTasks would make for a user,
// order and filter (flags: bits 0-1 completed, nil/false/true/nil; bits
// 2-3 priority; bits 4 and 5 whether the due bounds are set; the bounds in
// nanoseconds since the epoch), or false when Normalize refuses them.
func fuzzTokenBinding(user, tag, query string, order, flags uint8, before, after int64) (tokenBinding, bool) {
	var f tasks.TaskFilter
	switch flags & 3 {
	case 1:
		f.Completed = new(bool)
	case 2:
		f.Completed = new(true)
	}
	f.Priority = tasks.Priority(flags >> 2 & 3)
	f.Tag, f.Query = tag, query
	if flags&16 != 0 {
		f.DueBefore = new(time.Unix(0, before))
	}
	if flags&32 != 0 {
		f.DueAfter = new(time.Unix(0, after))
	}
	q, err := tasks.ListQuery{Filter: f, Order: tasks.TaskOrder(order)}.Normalize()
	if err != nil {
		return tokenBinding{}, false
	}
	return tokenBinding{userID: user, filter: filterOf(q.Filter), order: q.Order}, true
}

// sameBinding reports whether a and b are the same user, order and
// normalized filter, compared field by field rather than through the JSON
// that parts makes of them.
func sameBinding(a, b tokenBinding) bool {
	fa, fb := a.filter, b.filter
	return a.userID == b.userID && a.order == b.order &&
		samePtr(fa.Completed, fb.Completed) && fa.Priority == fb.Priority &&
		fa.Tag == fb.Tag && fa.Query == fb.Query &&
		samePtr(fa.DueBeforeUS, fb.DueBeforeUS) && samePtr(fa.DueAfterUS, fb.DueAfterUS)
}

func samePtr[T comparable](a, b *T) bool {
	return a == b || (a != nil && b != nil && *a == *b)
}

// FuzzChangeCursor checks change cursors as FuzzPageToken checks page
// tokens: a raw cursor opens for "alice" only if it is exactly the cursor
// sealing its position gives; a payload sealed for userA opens only if it
// is two non-negative positions, re-seals to itself, opens for userB only
// when userB is userA, and never opens as a page token.
func FuzzChangeCursor(f *testing.F) {
	for _, c := range []changeCursor{{0, 0}, {1, 0}, {42, 17}, {1<<63 - 1, 1<<63 - 1}} {
		sealed := fuzzKey.sealCursor("alice", c)
		f.Add(sealed, []byte(sealed), "alice", "alice")
	}
	f.Add(fuzzKey.sealCursor("bob", changeCursor{7, 7}), bytes.Repeat([]byte{0}, 16), "alice", "alicE")
	f.Add("", []byte{0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, "alice", "bob")
	f.Fuzz(func(t *testing.T, token string, payload []byte, userA, userB string) {
		c, err := fuzzKey.openCursor(token, "alice")
		mustOpenExactly(t, token, c, err, "cursor", "invalid cursor", func(c changeCursor) string { return fuzzKey.sealCursor("alice", c) })

		sealed := fuzzKey.sealBytes(changeCursorLabel, [][]byte{[]byte(userA)}, payload)
		c, err = fuzzKey.openCursor(sealed, userA)
		if err != nil {
			mustBeInvalid(t, err, "cursor", "invalid cursor")
			if _, err := fuzzKey.openCursor(sealed, userB); err == nil {
				t.Fatalf("payload %x opens for %q but not for %q", payload, userB, userA)
			}
			return
		}
		if c.pos < 0 || c.floor < 0 || len(payload) != 16 {
			t.Fatalf("payload %x opened to %+v", payload, c)
		}
		if again := fuzzKey.sealCursor(userA, c); again != sealed {
			t.Fatalf("payload %x opened to %+v, which seals to %q, not %q", payload, c, again, sealed)
		}
		if _, err := fuzzKey.open(sealed, tokenBinding{userID: userA}); err == nil {
			t.Fatalf("change cursor %q opens as a page token", sealed)
		}
		got, err := fuzzKey.openCursor(sealed, userB)
		switch {
		case userA == userB && (err != nil || got != c):
			t.Fatalf("cursor of %q for the same user: %+v, %v", userA, got, err)
		case userA != userB && err == nil:
			t.Fatalf("cursor of %q opens for %q", userA, userB)
		}
	})
}

// mustOpenExactly checks what opening token gave: the Invalid error about
// field with message, or a value that seal turns back into exactly token,
// so that no other spelling of a token opens.
func mustOpenExactly[C any](t *testing.T, token string, c C, err error, field, message string, seal func(C) string) {
	t.Helper()
	if err != nil {
		mustBeInvalid(t, err, field, message)
	} else if again := seal(c); again != token {
		t.Fatalf("token %q opened to %+v, which seals to %q", token, c, again)
	}
}

// mustBeInvalid checks that err is the Invalid error about field with
// message that a bad token or cursor gets.
func mustBeInvalid(t *testing.T, err error, field, message string) {
	t.Helper()
	var e *tasks.Error
	if !errors.As(err, &e) || e.Kind != tasks.KindInvalid || e.Field != field || e.Message != message {
		t.Fatalf("error %#v, want Invalid %s %q", err, field, message)
	}
}
