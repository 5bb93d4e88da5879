// Package validationcases loads testdata/validation_cases.json: requests and
// the rule violations each must produce. The schema's validator test, the
// server's contract tests and the web client's tests all run this one
// table, so the browser, the server and the schema agree on every rule.
package validationcases

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	// The table names tasks.v1 types; link them.
	_ "github.com/example/tasks/gen/tasks/v1"
)

// Case is one request of the table.
type Case struct {
	Name    string
	Type    protoreflect.FullName
	Message proto.Message
	// Violations is every violation the validator must report, sorted;
	// empty for a valid request.
	Violations []Violation
}

// Violation is a field path, as protovalidate.FieldPathString prints it
// (empty for a message-level rule), and a rule id.
type Violation struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

func (v Violation) String() string { return v.Field + ": " + v.Rule }

// Sort orders violations by field, then rule, so lists compare equal.
func Sort(vs []Violation) {
	slices.SortFunc(vs, func(a, b Violation) int { return strings.Compare(a.String(), b.String()) })
}

// Path is where the table lives.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "validation_cases.json")
}

// Load reads and decodes the table.
func Load() ([]Case, error) {
	data, err := os.ReadFile(Path())
	if err != nil {
		return nil, err
	}
	var table struct {
		Cases []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Message    json.RawMessage `json:"message"`
			Violations []Violation     `json:"violations"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &table); err != nil {
		return nil, fmt.Errorf("%s: %w", Path(), err)
	}
	if len(table.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases", Path())
	}
	cases := make([]Case, len(table.Cases))
	for i, c := range table.Cases {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(c.Type))
		if err != nil {
			return nil, fmt.Errorf("case %q: %w", c.Name, err)
		}
		msg := mt.New().Interface()
		if err := protojson.Unmarshal(c.Message, msg); err != nil {
			return nil, fmt.Errorf("case %q: %w", c.Name, err)
		}
		Sort(c.Violations)
		cases[i] = Case{Name: c.Name, Type: mt.Descriptor().FullName(), Message: msg, Violations: c.Violations}
	}
	return cases, nil
}
