package tasks

import "testing"

func TestParseUUID(t *testing.T) {
	t.Parallel()
	const canonical = "01936d5e-8f5a-7b3c-9d2e-4f1a2b3c4d5e"
	for _, in := range []string{
		canonical,
		"01936D5E-8F5A-7B3C-9D2E-4F1A2B3C4D5E",
		"{01936d5e-8f5a-7b3c-9d2e-4f1a2b3c4d5e}",
		"URN:uuid:01936d5e-8f5a-7b3c-9d2e-4f1a2b3c4d5e",
		"01936d5e8f5a7b3c9d2e4f1a2b3c4d5e",
	} {
		if got, ok := ParseUUID(in); !ok || got != canonical {
			t.Errorf("ParseUUID(%q) = %q, %v; want %q", in, got, ok, canonical)
		}
	}
	for _, in := range []string{
		"",
		"not a uuid",
		"01936d5e-8f5a-7b3c-9d2e-4f1a2b3c4d5",    // short
		"01936d5e-8f5a-7b3c-9d2e-4f1a2b3c4d5ef",  // long
		"01936d5e_8f5a-7b3c-9d2e-4f1a2b3c4d5e",   // no hyphen
		"01936d5g-8f5a-7b3c-9d2e-4f1a2b3c4d5e",   // not hex
		"(01936d5e-8f5a-7b3c-9d2e-4f1a2b3c4d5e)", // not braces
		"urn:uid:01936d5e-8f5a-7b3c-9d2e-4f1a2b3c4d5e",
		"01936d5e8f5a7b3c9d2e4f1a2b3c4d5z",
	} {
		if got, ok := ParseUUID(in); ok {
			t.Errorf("ParseUUID(%q) = %q, want not a UUID", in, got)
		}
	}
}
