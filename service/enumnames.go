package service

import (
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// unknownEnumName returns an error naming the first enum field of the JSON
// message data (of type md) whose value is a name its enum does not have;
// nil when there is none. Unknown fields are skipped, as protojson skips
// them; numbers are left to protojson, which takes any for an open enum.
// data has already been decoded by protojson, so it is valid JSON.
func unknownEnumName(data []byte, md protoreflect.MessageDescriptor) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return errors.New(decodeError(err))
	}
	return enumNamesIn(v, md)
}

// enumNamesIn is unknownEnumName over a decoded JSON object, in the order
// of md's fields so that the error is the same every time.
func enumNamesIn(v any, md protoreflect.MessageDescriptor) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		val, ok := obj[fd.JSONName()]
		if !ok {
			val, ok = obj[string(fd.Name())] // protojson takes either name
		}
		if !ok {
			continue
		}
		var err error
		switch {
		case fd.IsMap():
			m, _ := val.(map[string]any)
			for _, item := range m {
				if err = enumValueIn(fd.MapValue(), item); err != nil {
					break
				}
			}
		case fd.IsList():
			list, _ := val.([]any)
			for _, item := range list {
				if err = enumValueIn(fd, item); err != nil {
					break
				}
			}
		default:
			err = enumValueIn(fd, val)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// enumValueIn checks one value of field fd.
func enumValueIn(fd protoreflect.FieldDescriptor, v any) error {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		name, ok := v.(string)
		if ok && fd.Enum().Values().ByName(protoreflect.Name(name)) == nil && !hasOwnJSON(fd.Enum().ParentFile()) {
			return errors.New(clip(fmt.Sprintf("invalid value for enum field %s: %q", fd.JSONName(), name)))
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if !hasOwnJSON(fd.Message().ParentFile()) {
			return enumNamesIn(v, fd.Message())
		}
	}
	return nil
}

// hasOwnJSON reports whether types of file f have a JSON form of their own
// (the well-known types: a Timestamp is a string, a NullValue is null),
// which protojson has already checked.
func hasOwnJSON(f protoreflect.FileDescriptor) bool {
	return f.Package() == "google.protobuf"
}
