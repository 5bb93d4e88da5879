package service

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"connectrpc.com/connect"
)

// outcome is a ResponseWriter that remembers what the response tells the
// client about how its call ended, so that code can read the Connect code
// the client got once the handler has returned, whoever wrote the answer:
// the handler, connect-go itself, or middleware inside it. Each protocol
// says it its own way (see code); outcome keeps only what it needs to
// read it, the first bytes of an error body or the last frame of a
// stream, and passes everything through unchanged.
type outcome struct {
	http.ResponseWriter
	protocol string // connect, grpc or grpcweb, as connect.Peer names them
	unary    bool   // Connect unary: the status and body say it
	status   int    // 0 while nothing is written
	body     []byte // Connect unary: the start of an error's body
	frames   frameReader
}

// maxErrorBody is as much of a Connect error's body as code reads: its
// code comes first.
const maxErrorBody = 512

func newOutcome(w http.ResponseWriter, r *http.Request) *outcome {
	o := &outcome{ResponseWriter: w, protocol: "connect"}
	switch ct := r.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/grpc-web"):
		o.protocol, o.frames.end = "grpcweb", 0x80
	case strings.HasPrefix(ct, "application/grpc"):
		o.protocol = "grpc"
	case strings.HasPrefix(ct, "application/connect+"):
		o.frames.end = 0x02
	default:
		o.unary = true
	}
	return o
}

func (o *outcome) WriteHeader(status int) {
	if o.status == 0 {
		o.status = status
	}
	o.ResponseWriter.WriteHeader(status)
}

func (o *outcome) Write(p []byte) (int, error) {
	if o.status == 0 {
		o.status = http.StatusOK
	}
	switch {
	case o.frames.end != 0:
		o.frames.write(p)
	case o.unary && o.status != http.StatusOK && len(o.body) < maxErrorBody:
		o.body = append(o.body, p[:min(len(p), maxErrorBody-len(o.body))]...)
	}
	return o.ResponseWriter.Write(p)
}

// Flush lets streams through: connect-go requires an http.Flusher.
func (o *outcome) Flush() {
	if f, ok := o.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap is for http.ResponseController.
func (o *outcome) Unwrap() http.ResponseWriter { return o.ResponseWriter }

// code returns the code the client got: ok for success. gRPC puts it in
// the Grpc-Status trailer, gRPC-Web in the same header of a trailers-only
// response or else in its last (trailer) frame, a Connect stream in the
// JSON of its end frame, and Connect unary in the HTTP status and, for an
// error, the JSON body. A response that says none of it (a plain 404 from
// the mux, say) gets the code of its HTTP status.
func (o *outcome) code() connect.Code {
	h := o.Header()
	if s := h.Get("Grpc-Status"); s != "" {
		return grpcCode(s)
	}
	if s := h.Get(http.TrailerPrefix + "Grpc-Status"); s != "" {
		return grpcCode(s)
	}
	switch {
	case o.status != 0 && o.status != http.StatusOK && !(o.unary && o.status == http.StatusNotModified):
		if c, ok := jsonCode(o.body, "code"); o.unary && ok {
			return c
		}
		return httpCode(o.status)
	case o.frames.end != 0:
		return o.frames.code(o.protocol, h)
	case o.protocol == "grpc":
		return connect.CodeUnknown // no status at all
	}
	return 0
}

// frameReader follows the envelopes of a streamed body (a flags byte, a
// big-endian length, the data) and keeps the data of the last one flagged
// end: gRPC-Web's trailers, the Connect end-of-stream message.
type frameReader struct {
	end    byte // the flag that marks the frame to keep; 0: not framed
	head   [5]byte
	nhead  int
	left   uint32 // data left in the frame being read
	keep   bool   // that frame is an end frame
	flags  byte   // the kept frame's flags
	last   []byte // its data, up to maxEndFrame
	sawEnd bool
}

// maxEndFrame is as much of an end frame as is kept: trailers and error
// details are small.
const maxEndFrame = 64 << 10

func (f *frameReader) write(p []byte) {
	for len(p) > 0 {
		if f.nhead < len(f.head) {
			n := copy(f.head[f.nhead:], p)
			f.nhead += n
			p = p[n:]
			if f.nhead < len(f.head) {
				return
			}
			f.left = binary.BigEndian.Uint32(f.head[1:])
			f.keep = f.head[0]&f.end != 0
			if f.keep {
				f.flags, f.last, f.sawEnd = f.head[0], f.last[:0], true
			}
			if f.left == 0 {
				f.nhead = 0
				continue
			}
		}
		n := min(uint32(len(p)), f.left)
		if f.keep && len(f.last) < maxEndFrame {
			f.last = append(f.last, p[:min(int(n), maxEndFrame-len(f.last))]...)
		}
		f.left -= n
		p = p[n:]
		if f.left == 0 {
			f.nhead = 0
		}
	}
}

// code reads the kept end frame of protocol's stream.
func (f *frameReader) code(protocol string, h http.Header) connect.Code {
	if !f.sawEnd {
		return connect.CodeUnknown // the stream ended without saying how
	}
	data := f.last
	if f.flags&0x01 != 0 { // compressed; gzip is the only compression served
		r, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return connect.CodeUnknown
		}
		if data, err = io.ReadAll(io.LimitReader(r, maxEndFrame)); err != nil {
			return connect.CodeUnknown
		}
	}
	if protocol == "grpcweb" {
		for line := range strings.SplitSeq(string(data), "\r\n") {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.EqualFold(name, "grpc-status") {
				return grpcCode(strings.TrimSpace(value))
			}
		}
		return connect.CodeUnknown
	}
	if c, ok := jsonCode(data, "error", "code"); ok {
		return c
	}
	if json.Valid(data) {
		return 0 // an end message without an error
	}
	return connect.CodeUnknown
}

// jsonCode reads the Connect code at path in the JSON object data, which
// may be cut short after it: an error's code comes before its message and
// details, which may be long.
func jsonCode(data []byte, path ...string) (connect.Code, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	for _, name := range path {
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return 0, false
		}
		for {
			key, err := dec.Token()
			if err != nil || key == json.Delim('}') {
				return 0, false
			}
			if key == name {
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return 0, false
			}
		}
	}
	var c connect.Code
	if err := dec.Decode(&c); err != nil {
		return 0, false
	}
	return c, true
}

// grpcCode reads a Grpc-Status value.
func grpcCode(s string) connect.Code {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > uint64(connect.CodeUnauthenticated) {
		return connect.CodeUnknown
	}
	return connect.Code(n)
}

// httpCode is the code of an HTTP status that carries none of its own, as
// the Connect protocol reads it.
func httpCode(status int) connect.Code {
	switch status {
	case http.StatusBadRequest:
		return connect.CodeInternal
	case http.StatusUnauthorized:
		return connect.CodeUnauthenticated
	case http.StatusForbidden:
		return connect.CodePermissionDenied
	case http.StatusNotFound:
		return connect.CodeUnimplemented
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return connect.CodeUnavailable
	}
	return connect.CodeUnknown
}
