package tasks

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayout keeps the package layout (README.md, "Architecture"): the
// domain imports only the standard library, and each adapter imports the
// domain but neither another adapter nor what belongs to one (Connect and
// protobuf belong to service). It reads the packages' own imports, tests
// excluded.
func TestLayout(t *testing.T) {
	t.Parallel()
	const module = "github.com/example/tasks"
	rules := []struct {
		dir       string
		forbidden []string // import path prefixes
	}{
		{".", nil}, // the domain: checked for the standard library below
		{"storage", []string{module + "/service", module + "/auth", module + "/gen", "connectrpc.com/", "google.golang.org/protobuf"}},
		{"auth", []string{module + "/service", module + "/storage", module + "/gen", "connectrpc.com/", "google.golang.org/protobuf"}},
		{"service", []string{module + "/storage", module + "/auth", "github.com/uptrace/bun", "github.com/lestrrat-go/jwx"}},
	}
	for _, r := range rules {
		pkg, err := build.ImportDir(filepath.FromSlash(r.dir), 0)
		if err != nil {
			t.Fatalf("%s: %v", r.dir, err)
		}
		for _, imp := range pkg.Imports {
			if r.dir == "." && strings.Contains(strings.Split(imp, "/")[0], ".") {
				t.Errorf("the domain imports %s; it may import only the standard library", imp)
			}
			for _, f := range r.forbidden {
				if strings.HasPrefix(imp, f) {
					t.Errorf("%s imports %s", r.dir, imp)
				}
			}
		}
	}
}
