package service

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/reflect/protoreflect"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/validationcases"
)

func mustLoadCases(tb testing.TB) []validationcases.Case {
	tb.Helper()
	cases, err := validationcases.Load()
	if err != nil {
		tb.Fatal(err)
	}
	return cases
}

// violationsOf returns the violations in err, sorted, or fails if err is not
// a validation error.
func violationsOf(tb testing.TB, err error) []validationcases.Violation {
	tb.Helper()
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		tb.Fatalf("want a *protovalidate.ValidationError, got %T: %v", err, err)
	}
	got := make([]validationcases.Violation, 0, len(verr.Violations))
	for _, v := range verr.Violations {
		got = append(got, validationcases.Violation{
			Field: protovalidate.FieldPathString(v.Proto.GetField()),
			Rule:  v.Proto.GetRuleId(),
		})
	}
	validationcases.Sort(got)
	return got
}

func TestValidatorRules(t *testing.T) {
	t.Parallel()
	validator, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range mustLoadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			got := violationsOf(t, validator.Validate(c.Message))
			if want := c.Violations; !slices.Equal(got, want) {
				t.Errorf("violations:\n got  %v\n want %v", got, want)
			}
		})
	}
}

// TestValidationCasesCoverEveryRule reads the rules of every tasks.v1 message
// from its descriptor and fails if one of them has no case in the table that
// violates it, so a rule added to tasks.proto needs an example here.
func TestValidationCasesCoverEveryRule(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	index := regexp.MustCompile(`\[\d+\]`)
	for _, c := range mustLoadCases(t) {
		for _, v := range c.Violations {
			covered[ruleKey(string(c.Type), index.ReplaceAllString(v.Field, "[]"), v.Rule)] = true
		}
	}
	var missing []string
	for _, key := range schemaRules(t, tasksv1.File_tasks_v1_tasks_proto) {
		if !covered[key] {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		t.Errorf("rules with no violating case in %s:\n  %s", validationcases.Path(), strings.Join(missing, "\n  "))
	}
}

func ruleKey(msg, field, rule string) string { return fmt.Sprintf("%s %q %s", msg, field, rule) }

// schemaRules lists every rule set in file as ruleKey strings: the top-level
// request messages with the rules of the messages their fields hold.
func schemaRules(tb testing.TB, file protoreflect.FileDescriptor) []string {
	tb.Helper()
	var keys []string
	var walk func(top string, msg protoreflect.MessageDescriptor, prefix string)
	walk = func(top string, msg protoreflect.MessageDescriptor, prefix string) {
		mrules, err := protovalidate.ResolveMessageRules(msg)
		if err != nil {
			tb.Fatal(err)
		}
		for range mrules.GetOneof() {
			keys = append(keys, ruleKey(top, strings.TrimSuffix(prefix, "."), "message.oneof"))
		}
		for _, r := range mrules.GetCel() {
			keys = append(keys, ruleKey(top, strings.TrimSuffix(prefix, "."), r.GetId()))
		}
		fields := msg.Fields()
		for i := range fields.Len() {
			f := fields.Get(i)
			frules, err := protovalidate.ResolveFieldRules(f)
			if err != nil {
				tb.Fatal(err)
			}
			path := prefix + string(f.Name())
			keys = append(keys, fieldRuleKeys(top, path, frules)...)
			if f.Kind() == protoreflect.MessageKind && f.Message().ParentFile() == file {
				walk(top, f.Message(), path+".")
			}
		}
	}
	msgs := file.Messages()
	for i := range msgs.Len() {
		if m := msgs.Get(i); strings.HasSuffix(string(m.Name()), "Request") {
			walk(string(m.FullName()), m, "")
		}
	}
	return keys
}

// fieldRuleKeys lists the rule ids a field's rules can report: "required",
// each CEL rule's id, and "<type>.<rule>" for each standard rule that is set,
// descending into the rules for repeated items as path[].
func fieldRuleKeys(top, path string, rules *validate.FieldRules) []string {
	if rules == nil {
		return nil
	}
	var keys []string
	if rules.GetRequired() {
		keys = append(keys, ruleKey(top, path, "required"))
	}
	for _, r := range rules.GetCel() {
		keys = append(keys, ruleKey(top, path, r.GetId()))
	}
	typed := rules.ProtoReflect()
	oneof := typed.Descriptor().Oneofs().ByName("type")
	which := typed.WhichOneof(oneof)
	if which == nil {
		return keys
	}
	kind := string(which.Name())
	var lower, upper string // a range's bounds: gt or gte, lt or lte
	typed.Get(which).Message().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch name := string(fd.Name()); {
		case kind == "repeated" && name == "items":
			items := v.Message().Interface().(*validate.FieldRules)
			keys = append(keys, fieldRuleKeys(top, path+"[]", items)...)
		case name == "gt" || name == "gte":
			lower = name
		case name == "lt" || name == "lte":
			upper = name
		default:
			keys = append(keys, ruleKey(top, path, kind+"."+name))
		}
		return true
	})
	// Both bounds are one rule, reported as e.g. timestamp.gte_lte (the
	// schema has no exclusive ranges, whose ids end in _exclusive).
	switch {
	case lower != "" && upper != "":
		keys = append(keys, ruleKey(top, path, kind+"."+lower+"_"+upper))
	case lower+upper != "":
		keys = append(keys, ruleKey(top, path, kind+"."+lower+upper))
	}
	return keys
}
