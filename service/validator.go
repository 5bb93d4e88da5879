package service

import (
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/reflect/protoreflect"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// NewValidator returns the protovalidate validator that checks every request
// against the rules in tasks.proto. It compiles the rules of every tasks.v1
// message up front, so a bad rule fails at start and the first request of
// each kind does not pay for compiling CEL. Build one and share it: it is
// safe for concurrent use.
func NewValidator() (protovalidate.Validator, error) {
	msgs := tasksv1.File_tasks_v1_tasks_proto.Messages()
	descs := make([]protoreflect.MessageDescriptor, msgs.Len())
	for i := range descs {
		descs[i] = msgs.Get(i)
	}
	return protovalidate.New(protovalidate.WithMessageDescriptors(descs...))
}
