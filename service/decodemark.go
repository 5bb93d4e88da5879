package service

import (
	"bytes"
	"context"
	"crypto/rand"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/example/tasks"
)

// decodeMark carries a codec's refusal of a request to the interceptors.
// connect-go answers a request its codec cannot decode by itself, before
// any interceptor runs: InvalidArgument with the codec's words and no
// ErrorInfo, where the API promises reason INVALID_REQUEST like every
// other refusal (and the call is neither counted nor traced). So the
// codecs do not fail: they leave the message empty with why in its unknown
// fields, behind a key drawn when the handler is built, and the
// interceptor (unary) or the stream's Receive answers it as an Invalid
// error. A client cannot forge the mark without the key; a request with no
// unknown fields costs one length check.
type decodeMark struct{ key [16]byte }

// markField is the field number of the mark: the largest there is, which
// no schema of ours will ever use.
const markField = protowire.MaxValidNumber

func newDecodeMark() *decodeMark {
	var d decodeMark
	_, _ = rand.Read(d.key[:]) // never fails (crypto/rand)
	return &d
}

// set empties m and marks it with why.
func (d *decodeMark) set(m proto.Message, why string) {
	proto.Reset(m)
	b := protowire.AppendTag(nil, markField, protowire.BytesType)
	b = protowire.AppendBytes(b, append(d.key[:], why...))
	m.ProtoReflect().SetUnknown(b)
}

// refusal returns the Invalid error msg was marked with, or nil. The mark
// is all of a marked message's unknown fields, so only the first is read.
func (d *decodeMark) refusal(msg any) error {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil
	}
	u := m.ProtoReflect().GetUnknown()
	if len(u) == 0 {
		return nil
	}
	num, typ, n := protowire.ConsumeTag(u)
	if n < 0 || num != markField || typ != protowire.BytesType {
		return nil
	}
	v, n := protowire.ConsumeBytes(u[n:])
	if n < 0 || !bytes.HasPrefix(v, d.key[:]) {
		return nil
	}
	return ConnectError(tasks.Errorf(tasks.KindInvalid, "the request cannot be decoded: %s", v[len(d.key):]))
}

// WrapUnary refuses a marked request before next sees it.
func (d *decodeMark) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := d.refusal(req.Any()); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

// WrapStreamingClient changes nothing: the mark is the server's.
func (d *decodeMark) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler refuses a marked request when the stream's handler
// receives it: connect-go reads a server stream's request inside the
// interceptors.
func (d *decodeMark) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return next(ctx, markedConn{conn, d})
	}
}

// markedConn answers a marked message as its refusal.
type markedConn struct {
	connect.StreamingHandlerConn
	mark *decodeMark
}

func (c markedConn) Receive(msg any) error {
	if err := c.StreamingHandlerConn.Receive(msg); err != nil {
		return err
	}
	return c.mark.refusal(msg)
}
