package auth

import (
	"net/http"
	"strings"
	"testing"
)

func TestBearerToken(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", MaxTokenBytes)
	tests := []struct {
		name   string
		values []string
		want   string // "" means none
	}{
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi"},
		{"lower-case scheme", []string{"bearer abc.def.ghi"}, "abc.def.ghi"},
		{"upper-case scheme", []string{"BEARER abc.def.ghi"}, "abc.def.ghi"},
		{"extra spaces", []string{"Bearer   abc.def.ghi"}, "abc.def.ghi"},
		{"exactly 8 KiB", []string{"Bearer " + long}, long},
		{"over 8 KiB", []string{"Bearer " + long + "a"}, ""},
		{"missing", nil, ""},
		{"empty", []string{""}, ""},
		{"scheme only", []string{"Bearer"}, ""},
		{"scheme and space", []string{"Bearer "}, ""},
		{"Basic", []string{"Basic dXNlcjpwYXNz"}, ""},
		{"Token", []string{"Token abc.def.ghi"}, ""},
		{"no space", []string{"Bearerabc.def.ghi"}, ""},
		{"token with a space", []string{"Bearer abc def"}, ""},
		{"two headers", []string{"Bearer a.b.c", "Bearer a.b.c"}, ""},
	}
	for _, tt := range tests {
		h := http.Header{}
		for _, v := range tt.values {
			h.Add("Authorization", v)
		}
		got, ok := BearerToken(h)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: got %.20q, %v; want %.20q", tt.name, got, ok, tt.want)
		}
	}
}
