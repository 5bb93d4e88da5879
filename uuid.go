package tasks

import "strings"

// ParseUUID returns s in the canonical form of a UUID (lower case,
// hyphenated), or false when s is not a UUID. It accepts the forms UUID
// libraries print: xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in either case, the
// same in braces or after "urn:uuid:", and 32 hex digits. Task ids and
// request ids are compared in canonical form, so the same UUID written
// differently names the same task or the same request.
func ParseUUID(s string) (string, bool) {
	switch {
	case len(s) == 36+9 && strings.EqualFold(s[:9], "urn:uuid:"):
		s = s[9:]
	case len(s) == 36+2 && s[0] == '{' && s[37] == '}':
		s = s[1:37]
	case len(s) == 32:
		var b [36]byte
		j := 0
		for i := range 32 {
			if i == 8 || i == 12 || i == 16 || i == 20 {
				b[j] = '-'
				j++
			}
			c, ok := lowerHex(s[i])
			if !ok {
				return "", false
			}
			b[j] = c
			j++
		}
		return string(b[:]), true
	}
	if len(s) != 36 {
		return "", false
	}
	var b [36]byte
	for i := range 36 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return "", false
			}
			b[i] = '-'
			continue
		}
		c, ok := lowerHex(s[i])
		if !ok {
			return "", false
		}
		b[i] = c
	}
	return string(b[:]), true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		return c, true
	case 'A' <= c && c <= 'F':
		return c + ('a' - 'A'), true
	}
	return 0, false
}
