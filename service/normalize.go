package service

import "strings"

// NormalizeTitle returns a title as it is stored: surrounding whitespace
// trimmed.
func NormalizeTitle(title string) string { return strings.TrimSpace(title) }

// NormalizeTags returns tags as they are stored: lower-cased, in the order
// given. Two tags that are equal once lower-cased are an Invalid error: the
// caller almost certainly meant one tag, and silently dropping one would
// hide that.
func NormalizeTags(tags []string) ([]string, error) {
	out := make([]string, len(tags))
	seen := make(map[string]struct{}, len(tags))
	for i, t := range tags {
		t = strings.ToLower(t)
		if _, dup := seen[t]; dup {
			return nil, Errorf(KindInvalid, "tag %q appears more than once", t)
		}
		seen[t] = struct{}{}
		out[i] = t
	}
	return out, nil
}

// NormalizeTag returns a tag filter as it is compared: lower-cased.
func NormalizeTag(tag string) string { return strings.ToLower(tag) }
