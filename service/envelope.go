package service

import (
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
)

// checkEnvelopes checks the framing of a request body that gRPC, gRPC-Web
// and Connect's streaming protocol cut into enveloped messages (a flags
// byte, a four-byte length, the message). connect-go answers a body whose
// last envelope promises more than it holds, or that flags a message
// compressed without naming a compression, as its own failure (Internal,
// "protocol error"), before any interceptor runs; it is the client's, and
// the API answers it InvalidArgument like any request it cannot decode.
// Bodies of other protocols pass unchecked.
func checkEnvelopes(h http.Header, body []byte) error {
	ct := h.Get("Content-Type")
	var encoding string
	switch {
	case ct == "application/grpc" || strings.HasPrefix(ct, "application/grpc+"),
		ct == "application/grpc-web" || strings.HasPrefix(ct, "application/grpc-web+"):
		encoding = h.Get("Grpc-Encoding")
	case strings.HasPrefix(ct, "application/connect+"):
		encoding = h.Get("Connect-Content-Encoding")
	default:
		return nil
	}
	compressed := encoding != "" && encoding != "identity"
	for len(body) > 0 {
		if len(body) < 5 {
			return errors.New("the request body ends inside a message's envelope")
		}
		flags, size := body[0], binary.BigEndian.Uint32(body[1:5])
		body = body[5:]
		if flags&1 != 0 && !compressed {
			return errors.New("a message is flagged compressed, but the request names no compression")
		}
		if uint64(size) > uint64(len(body)) {
			return errors.New("the request body ends inside a message")
		}
		body = body[size:]
	}
	return nil
}
