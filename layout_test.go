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
// protobuf belong to service; OpenTelemetry's SDK, its exporters and
// Prometheus to internal/telemetry, the others using its API alone). It
// reads the packages' own imports, tests excluded.
func TestLayout(t *testing.T) {
	t.Parallel()
	const module = "github.com/example/tasks"
	telemetry := []string{"go.opentelemetry.io/otel/sdk", "go.opentelemetry.io/otel/exporters", "github.com/prometheus/"}
	rules := []struct {
		dir       string
		forbidden []string // import path prefixes
	}{
		{".", nil}, // the domain: checked for the standard library below
		{"storage", append([]string{module + "/service", module + "/auth", module + "/gen", "connectrpc.com/", "google.golang.org/protobuf"}, telemetry...)},
		{"auth", []string{module + "/service", module + "/storage", module + "/gen", "connectrpc.com/", "google.golang.org/protobuf", "go.opentelemetry.io/"}},
		{"service", append([]string{module + "/storage", module + "/auth", "github.com/uptrace/bun", "github.com/lestrrat-go/jwx"}, telemetry...)},
		{"internal/telemetry", []string{module + "/", "connectrpc.com/", "github.com/uptrace/bun", "github.com/lestrrat-go/jwx"}},
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
