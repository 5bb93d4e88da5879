package tasks

import (
	"slices"
	"testing"
)

func TestNormalizeTags(t *testing.T) {
	t.Parallel()
	got, err := normalizeTags([]string{"Work", "ÄRGER", "home"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"work", "ärger", "home"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, err := normalizeTags(nil); err != nil || len(got) != 0 {
		t.Errorf("nil tags: got %q, %v", got, err)
	}
}

func TestNormalizeTagsDuplicates(t *testing.T) {
	t.Parallel()
	for _, tags := range [][]string{{"work", "work"}, {"Work", "wORK"}, {"a", "Ä", "ä"}} {
		_, err := normalizeTags(tags)
		if KindOf(err) != KindInvalid {
			t.Errorf("%q: got %v, want an invalid error", tags, err)
		}
	}
}

func TestNormalizeTitle(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"  a b  ": "a b", "\u00a0x\u3000": "x", "x": "x"} {
		if got, err := normalizeTitle(in); err != nil || got != want {
			t.Errorf("normalizeTitle(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
