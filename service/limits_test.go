package service

import (
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/example/tasks"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// The schema states the domain's limits and enums a second time, for
// clients; these tests read them from the generated descriptors and fail
// when the two disagree.

// mustFieldRules returns the protovalidate rules of msg's field name.
func mustFieldRules(tb testing.TB, msg proto.Message, name protoreflect.Name) *validate.FieldRules {
	tb.Helper()
	fd := msg.ProtoReflect().Descriptor().Fields().ByName(name)
	if fd == nil {
		tb.Fatalf("%s has no field %s", msg.ProtoReflect().Descriptor().FullName(), name)
	}
	rules, err := protovalidate.ResolveFieldRules(fd)
	if err != nil {
		tb.Fatal(err)
	}
	return rules
}

func TestSchemaLimits(t *testing.T) {
	t.Parallel()
	var (
		createTitle = mustFieldRules(t, &tasksv1.CreateTaskRequest{}, "title").GetString_()
		updateTitle = mustFieldRules(t, &tasksv1.UpdateTaskRequest{}, "title").GetString_()
		createDesc  = mustFieldRules(t, &tasksv1.CreateTaskRequest{}, "description").GetString_()
		updateDesc  = mustFieldRules(t, &tasksv1.UpdateTaskRequest{}, "description").GetString_()
		createTags  = mustFieldRules(t, &tasksv1.CreateTaskRequest{}, "tags").GetRepeated()
		tagList     = mustFieldRules(t, &tasksv1.TagList{}, "values").GetRepeated()
		listTag     = mustFieldRules(t, &tasksv1.ListTasksRequest{}, "tag").GetString_()
		listQuery   = mustFieldRules(t, &tasksv1.ListTasksRequest{}, "query").GetString_()
	)
	tests := []struct {
		rule string
		got  uint64
		want int
	}{
		{"CreateTaskRequest.title string.max_len", createTitle.GetMaxLen(), tasks.MaxTitleLen},
		{"UpdateTaskRequest.title string.max_len", updateTitle.GetMaxLen(), tasks.MaxTitleLen},
		{"UpdateTaskRequest.title string.min_len", updateTitle.GetMinLen(), 1},
		{"CreateTaskRequest.description string.max_len", createDesc.GetMaxLen(), tasks.MaxDescriptionLen},
		{"UpdateTaskRequest.description string.max_len", updateDesc.GetMaxLen(), tasks.MaxDescriptionLen},
		{"CreateTaskRequest.tags repeated.max_items", createTags.GetMaxItems(), tasks.MaxTags},
		{"CreateTaskRequest.tags[] string.max_len", createTags.GetItems().GetString_().GetMaxLen(), tasks.MaxTagLen},
		{"CreateTaskRequest.tags[] string.min_len", createTags.GetItems().GetString_().GetMinLen(), 1},
		{"TagList.values repeated.max_items", tagList.GetMaxItems(), tasks.MaxTags},
		{"TagList.values[] string.max_len", tagList.GetItems().GetString_().GetMaxLen(), tasks.MaxTagLen},
		{"TagList.values[] string.min_len", tagList.GetItems().GetString_().GetMinLen(), 1},
		{"ListTasksRequest.tag string.max_len", listTag.GetMaxLen(), tasks.MaxTagLen},
		{"ListTasksRequest.query string.max_len", listQuery.GetMaxLen(), tasks.MaxQueryLen},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			if tt.got != uint64(tt.want) {
				t.Errorf("%s is %d in tasks.proto, %d in the domain", tt.rule, tt.got, tt.want)
			}
		})
	}
}

// TestSchemaTimeRange: every time a request carries has the domain's range
// in the schema, both ends included, to the second.
func TestSchemaTimeRange(t *testing.T) {
	t.Parallel()
	for _, f := range []struct {
		msg  proto.Message
		name protoreflect.Name
	}{
		{&tasksv1.CreateTaskRequest{}, "due_time"},
		{&tasksv1.UpdateTaskRequest{}, "due_time"},
		{&tasksv1.ListTasksRequest{}, "due_before"},
		{&tasksv1.ListTasksRequest{}, "due_after"},
	} {
		rule := mustFieldRules(t, f.msg, f.name).GetTimestamp()
		name := string(f.msg.ProtoReflect().Descriptor().Name()) + "." + string(f.name)
		if gte := rule.GetGte(); gte == nil || gte.GetSeconds() != tasks.MinTimeUnix || gte.GetNanos() != 0 {
			t.Errorf("%s timestamp.gte is %v in tasks.proto, %d s in the domain", name, gte, tasks.MinTimeUnix)
		}
		if lte := rule.GetLte(); lte == nil || lte.GetSeconds() != tasks.MaxTimeUnix || lte.GetNanos() != 0 {
			t.Errorf("%s timestamp.lte is %v in tasks.proto, %d s in the domain", name, lte, tasks.MaxTimeUnix)
		}
	}
}

// TestEnumsMatchDomain checks that every tasks.v1 Priority and TaskOrder
// value has the number of the domain constant of the same meaning, and
// that neither side has a value the other lacks: the converters cast
// between them.
func TestEnumsMatchDomain(t *testing.T) {
	t.Parallel()
	t.Run("Priority", func(t *testing.T) {
		t.Parallel()
		checkEnum(t, tasksv1.Priority(0).Descriptor(), tasks.Priority.Valid, map[tasksv1.Priority]tasks.Priority{
			tasksv1.Priority_PRIORITY_UNSPECIFIED: tasks.PriorityUnspecified,
			tasksv1.Priority_PRIORITY_LOW:         tasks.PriorityLow,
			tasksv1.Priority_PRIORITY_MEDIUM:      tasks.PriorityMedium,
			tasksv1.Priority_PRIORITY_HIGH:        tasks.PriorityHigh,
		})
	})
	t.Run("TaskOrder", func(t *testing.T) {
		t.Parallel()
		checkEnum(t, tasksv1.TaskOrder(0).Descriptor(), tasks.TaskOrder.Valid, map[tasksv1.TaskOrder]tasks.TaskOrder{
			tasksv1.TaskOrder_TASK_ORDER_UNSPECIFIED:      tasks.OrderUnspecified,
			tasksv1.TaskOrder_TASK_ORDER_CREATE_TIME_DESC: tasks.OrderCreateTimeDesc,
			tasksv1.TaskOrder_TASK_ORDER_CREATE_TIME_ASC:  tasks.OrderCreateTimeAsc,
			tasksv1.TaskOrder_TASK_ORDER_UPDATE_TIME_DESC: tasks.OrderUpdateTimeDesc,
			tasksv1.TaskOrder_TASK_ORDER_DUE_TIME_ASC:     tasks.OrderDueTimeAsc,
			tasksv1.TaskOrder_TASK_ORDER_PRIORITY_DESC:    tasks.OrderPriorityDesc,
			tasksv1.TaskOrder_TASK_ORDER_TITLE_ASC:        tasks.OrderTitleAsc,
		})
	})
}

// checkEnum checks the pairs of wire and domain values that mean the same,
// and that they are all there are: as many as the enum declares and as
// many as valid accepts.
func checkEnum[W, D ~int32](t *testing.T, desc protoreflect.EnumDescriptor, valid func(D) bool, same map[W]D) {
	t.Helper()
	for w, d := range same {
		if int32(w) != int32(d) {
			t.Errorf("%v is %d on the wire, %d in the domain", w, w, d)
		}
	}
	if n := desc.Values().Len(); n != len(same) {
		t.Errorf("%s has %d values, the table %d", desc.FullName(), n, len(same))
	}
	domain := 0
	for v := -512; v < 512; v++ {
		if valid(D(v)) {
			domain++
		}
	}
	if domain != len(same) {
		t.Errorf("the domain has %d valid %s values, the table %d", domain, desc.Name(), len(same))
	}
}
