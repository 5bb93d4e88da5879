package service

import (
	"errors"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/example/tasks"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// ErrorDomain is the ErrorInfo domain of every error the API returns.
const ErrorDomain = "tasks.v1"

// The ErrorInfo reasons a client can switch on (see the Errors table of the
// API contract).
const (
	ReasonValidation      = "VALIDATION_ERROR"
	ReasonInvalid         = "INVALID_REQUEST"
	ReasonUnauthorized    = "UNAUTHORIZED"
	ReasonNotFound        = "NOT_FOUND"
	ReasonETagMismatch    = "ETAG_MISMATCH"
	ReasonCursorExpired   = "CURSOR_EXPIRED"
	ReasonTooManyWatches  = "TOO_MANY_WATCHES"
	ReasonTooManyRequests = "TOO_MANY_REQUESTS"
	ReasonQuotaExceeded   = "QUOTA_EXCEEDED"
	ReasonUnavailable     = "SERVICE_UNAVAILABLE"
	ReasonInternal        = "INTERNAL_ERROR"
)

// edge is the one table from error kinds to what a client sees.
var edge = map[tasks.ErrorKind]struct {
	code   connect.Code
	reason string
}{
	tasks.KindInvalid:         {connect.CodeInvalidArgument, ReasonInvalid},
	tasks.KindNotFound:        {connect.CodeNotFound, ReasonNotFound},
	tasks.KindConflict:        {connect.CodeAborted, ReasonETagMismatch},
	tasks.KindUnavailable:     {connect.CodeUnavailable, ReasonUnavailable},
	tasks.KindDeadline:        {connect.CodeDeadlineExceeded, ReasonUnavailable},
	tasks.KindUnauthenticated: {connect.CodeUnauthenticated, ReasonUnauthorized},
	tasks.KindCursorExpired:   {connect.CodeFailedPrecondition, ReasonCursorExpired},
	tasks.KindTooManyWatches:  {connect.CodeResourceExhausted, ReasonTooManyWatches},
	tasks.KindQuotaExceeded:   {connect.CodeResourceExhausted, ReasonQuotaExceeded},
	tasks.KindTooManyRequests: {connect.CodeResourceExhausted, ReasonTooManyRequests},
	tasks.KindInternal:        {connect.CodeInternal, ReasonInternal},
}

// internalMessage is all a client learns of an unexpected error.
const internalMessage = "internal error"

// ConnectError turns a domain error into the *connect.Error a client gets:
// the code and ErrorInfo reason of its kind, and its client-safe message.
// The cause is not included; log it. An error that is already a
// *connect.Error is returned as is.
func ConnectError(err error) *connect.Error {
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		return cerr
	}
	kind := tasks.KindOf(err)
	msg := internalMessage
	var e *tasks.Error
	if errors.As(err, &e) && kind != tasks.KindInternal {
		msg = e.Message
	} else if kind == tasks.KindDeadline {
		msg = "deadline exceeded"
	}
	out := edge[kind]
	cerr = connect.NewError(out.code, errors.New(msg))
	addReason(cerr, out.reason)
	return cerr
}

// requestError is ConnectError for an error a call on request message type
// req returned: an Invalid error that names a field of req also carries a
// buf.validate.Violations detail for that field, as the schema's own
// violations do, so a client shows it beside the right input. (Its
// violation has no rule id: the rule is the server's, not the schema's.)
func requestError(err error, req protoreflect.MessageDescriptor) *connect.Error {
	cerr := ConnectError(err)
	var e *tasks.Error
	if !errors.As(err, &e) || e.Kind != tasks.KindInvalid || e.Field == "" {
		return cerr
	}
	path := fieldPath(req, e.Field)
	if path == nil {
		return cerr
	}
	detail, derr := connect.NewErrorDetail(&validate.Violations{Violations: []*validate.Violation{{
		Field:   path,
		Message: proto.String(e.Message),
	}}})
	if derr == nil {
		cerr.AddDetail(detail)
	}
	return cerr
}

// nestedFields are the domain fields that sit deeper in a request than
// their name: UpdateTaskRequest wraps its tags in a TagList so that
// "replace them with none" differs from "leave them alone".
var nestedFields = map[protoreflect.FullName]map[string][]protoreflect.Name{
	(&tasksv1.UpdateTaskRequest{}).ProtoReflect().Descriptor().FullName(): {"tags": {"tags", "values"}},
}

// fieldPath returns the path of field in messages of type req, or nil when
// req has no such field.
func fieldPath(req protoreflect.MessageDescriptor, field string) *validate.FieldPath {
	names, ok := nestedFields[req.FullName()][field]
	if !ok {
		names = []protoreflect.Name{protoreflect.Name(field)}
	}
	path := &validate.FieldPath{}
	msg := req
	for _, name := range names {
		if msg == nil {
			return nil
		}
		fd := msg.Fields().ByName(name)
		if fd == nil {
			return nil
		}
		path.Elements = append(path.Elements, &validate.FieldPathElement{
			FieldNumber: proto.Int32(int32(fd.Number())),
			FieldName:   proto.String(fd.TextName()),
			FieldType:   descriptorpb.FieldDescriptorProto_Type(fd.Kind()).Enum(),
		})
		msg = fd.Message()
	}
	return path
}

// ErrorReason returns the reason of the tasks.v1 ErrorInfo detail in cerr,
// or "" when it has none: what a Go client of the API switches on.
func ErrorReason(cerr *connect.Error) string {
	for _, d := range cerr.Details() {
		v, err := d.Value()
		if err != nil {
			continue
		}
		if info, ok := v.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			return info.GetReason()
		}
	}
	return ""
}

func addReason(cerr *connect.Error, reason string) {
	if detail, err := connect.NewErrorDetail(&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain}); err == nil {
		cerr.AddDetail(detail)
	}
}
