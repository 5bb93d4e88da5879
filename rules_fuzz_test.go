package tasks

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/example/tasks/internal/apimessage"
)

// FuzzNormalizeTags feeds normalizeTags a list of tags, one per line of
// joined (an empty joined is no tags). Whatever it gets, it must not panic;
// what it returns must be within the limits, distinct, lower-cased, valid
// UTF-8 (a store cannot keep anything else) and its own normal form; what
// it refuses must be an Invalid error about "tags" whose message a client
// may see. Tags that are valid UTF-8 and fit must be refused only as
// duplicates. normalizeTag, which the tag filter uses, must agree with it
// and be idempotent too. The seeds are in testdata/fuzz/FuzzNormalizeTags.
func FuzzNormalizeTags(f *testing.F) {
	f.Fuzz(func(t *testing.T, joined string) {
		var in []string
		if joined != "" {
			in = strings.Split(joined, "\n")
		}
		for _, tag := range in {
			norm := normalizeTag(tag)
			if again := normalizeTag(norm); again != norm {
				t.Fatalf("normalizeTag(%q) = %q, but normalizeTag(%q) = %q", tag, norm, norm, again)
			}
		}
		out, err := normalizeTags(slices.Clone(in))
		if err != nil {
			checkTagsError(t, in, err)
			return
		}
		checkNormalTags(t, in, out)
		again, err := normalizeTags(slices.Clone(out))
		if err != nil || !slices.Equal(again, out) {
			t.Fatalf("normalizeTags(%q) = %q, %v; want its input back", out, again, err)
		}
	})
}

// checkNormalTags checks what normalizeTags returned for in.
func checkNormalTags(t *testing.T, in, out []string) {
	t.Helper()
	if len(out) != len(in) || len(out) > MaxTags {
		t.Fatalf("normalizeTags(%q) = %q: %d tags", in, out, len(out))
	}
	if len(in) == 0 && out != nil {
		t.Fatalf("no tags became %q, want nil", out)
	}
	seen := map[string]bool{}
	for i, tag := range out {
		n := utf8.RuneCountInString(tag)
		switch {
		case n < 1 || n > MaxTagLen:
			t.Fatalf("tag %q has %d characters", tag, n)
		case !utf8.ValidString(tag):
			t.Fatalf("tag %q is not valid UTF-8", tag)
		case strings.ContainsRune(tag, 0):
			t.Fatalf("tag %q holds NUL", tag)
		case tag != normalizeTag(in[i]):
			t.Fatalf("tag %q became %q, but normalizeTag says %q", in[i], tag, normalizeTag(in[i]))
		case seen[tag]:
			t.Fatalf("tag %q is in %q twice", tag, out)
		}
		seen[tag] = true
	}
}

// checkTagsError checks why normalizeTags refused in.
func checkTagsError(t *testing.T, in []string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindInvalid || e.Field != "tags" {
		t.Fatalf("normalizeTags(%q): %#v, want an Invalid error about tags", in, err)
	}
	if cerr := apimessage.Check(e.Message, []byte(strings.Join(in, "\n"))); cerr != nil {
		t.Fatalf("normalizeTags(%q): message %q: %v", in, e.Message, cerr)
	}
	if len(in) > MaxTags {
		return
	}
	seen := map[string]bool{}
	dup := false
	for _, tag := range in {
		if n := utf8.RuneCountInString(tag); !utf8.ValidString(tag) || n < 1 || n > MaxTagLen || strings.ContainsRune(tag, 0) {
			return // refused as it should be
		}
		dup = dup || seen[normalizeTag(tag)]
		seen[normalizeTag(tag)] = true
	}
	if !dup {
		t.Fatalf("normalizeTags(%q) refused valid, distinct tags: %v", in, err)
	}
}
