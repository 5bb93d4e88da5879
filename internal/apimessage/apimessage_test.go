package apimessage

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("7", 500)
	tests := []struct {
		name  string
		msg   string
		input string
		ok    bool
	}{
		{"plain", "title must not be empty", `{"title":""}`, true},
		{"a short echo", `tag "work" appears more than once`, `{"tags":["work","work"]}`, true},
		{"64 characters echoed", `tag "` + strings.Repeat("é", 64) + `"`, strings.Repeat("é", 64), true},
		{"65 characters echoed", `tag "` + strings.Repeat("é", 65) + `"`, strings.Repeat("é", 65), false},
		{"an echo of a number", "invalid value for int32 field pageSize: " + long, `{"pageSize":` + long + `}`, false},
		{"a long message of its own", strings.Repeat("value length must be at most 32 characters\n", 20), "{}", true},
		{"too long", strings.Repeat("x", MaxLen+1), "", false},
		{"a Go pointer type", "unmarshal into *tasksv1.CreateTaskRequest: unexpected EOF", "", false},
		{"a Go slice type", "cannot use []string here", "", false},
		{"a Go map type", "map[string]any is not a task", "", false},
		{"a protobuf name", "google.protobuf.Timestamp is out of range", "", true},
		{"a field path", "tags[1]: value does not match regex pattern", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Check(tt.msg, []byte(tt.input))
			if (err == nil) != tt.ok {
				t.Fatalf("Check(%.80q) = %v, want ok %v", tt.msg, err, tt.ok)
			}
		})
	}
}
