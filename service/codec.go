package service

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// codecs replaces connect-go's protobuf codecs with the API's: the same
// encodings, stricter JSON and errors fit for a client (see jsonCodec and
// decodeError). A request they cannot decode is marked with why (see
// decodeMark), and refuse, which must be among the handler's interceptors
// (ahead of validation), answers it: the two come together, as neither
// works alone.
func codecs() (codecs connect.HandlerOption, refuse connect.Interceptor) {
	mark := newDecodeMark()
	return connect.WithHandlerOptions(
		connect.WithCodec(protoCodec{mark}),
		connect.WithCodec(jsonCodec{name: "json", mark: mark}),
		connect.WithCodec(jsonCodec{name: "json; charset=utf-8", mark: mark}),
	), mark
}

// protoCodec is binary protobuf.
type protoCodec struct{ mark *decodeMark }

func (protoCodec) Name() string { return "proto" }

func (protoCodec) Marshal(msg any) ([]byte, error) {
	return protoCodec{}.MarshalAppend(nil, msg)
}

func (protoCodec) MarshalAppend(dst []byte, msg any) ([]byte, error) {
	return appendMessage(dst, msg, proto.MarshalOptions{}.MarshalAppend)
}

func (c protoCodec) Unmarshal(data []byte, msg any) error {
	m, ok := msg.(proto.Message)
	if !ok {
		return errNotMessage
	}
	if err := proto.Unmarshal(data, m); err != nil {
		c.mark.set(m, decodeError(err))
	}
	return nil
}

// jsonCodec is protobuf's JSON. Unknown fields are ignored, so that
// clients built from a newer schema still work; an enum value name that is
// unknown is not: protojson's DiscardUnknown, connect-go's default, would
// make "PRIORITY_HGIH" silently mean no priority at all.
type jsonCodec struct {
	name string
	mark *decodeMark
}

func (c jsonCodec) Name() string { return c.name }

func (c jsonCodec) Marshal(msg any) ([]byte, error) {
	return c.MarshalAppend(nil, msg)
}

func (jsonCodec) MarshalAppend(dst []byte, msg any) ([]byte, error) {
	return appendMessage(dst, msg, protojson.MarshalOptions{}.MarshalAppend)
}

// Unmarshal decodes strictly first, which is all a request without unknown
// fields or names needs. protojson cannot ignore unknown fields but not
// unknown enum names, so a request it refuses is decoded again ignoring
// both, and then checked for enum names (unknownEnumName).
func (c jsonCodec) Unmarshal(data []byte, msg any) error {
	m, ok := msg.(proto.Message)
	if !ok {
		return errNotMessage
	}
	if len(data) == 0 {
		c.mark.set(m, "empty message: want a JSON object")
		return nil
	}
	if protojson.Unmarshal(data, m) == nil {
		return nil
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, m); err != nil {
		c.mark.set(m, decodeError(err))
	} else if err := unknownEnumName(data, m.ProtoReflect().Descriptor()); err != nil {
		c.mark.set(m, err.Error())
	}
	return nil
}

// appendMessage appends msg, encoded by marshal, to dst. A failure says
// only that: the client can do nothing with protobuf's reason, which the
// log line's code (internal) points to.
func appendMessage(dst []byte, msg any, marshal func([]byte, proto.Message) ([]byte, error)) ([]byte, error) {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil, errNotMessage
	}
	out, err := marshal(dst, m)
	if err != nil {
		return nil, errEncode
	}
	return out, nil
}

var (
	errNotMessage = errors.New("not a protobuf message")
	errEncode     = errors.New("the response could not be encoded")
)

// maxErrorRunes bounds what a decoding error tells the client: protobuf's
// messages quote the offending input, which may be a number half a
// megabyte long.
const maxErrorRunes = 80

// decodeError is err, from protobuf's decoders, as a client may read it:
// without the "proto:" prefix, with anything that is not printable UTF-8
// replaced, and cut to maxErrorRunes.
func decodeError(err error) string {
	return clip(strings.TrimSpace(strings.TrimPrefix(err.Error(), "proto:")))
}

// clip makes s printable UTF-8 of at most maxErrorRunes.
func clip(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxErrorRunes {
			b.WriteString("…")
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
