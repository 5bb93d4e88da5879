package main

import (
	"bytes"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestResponseHeadersNotIndexed: the server adds no response header to
// HPACK's dynamic table (unindexedResponseHeaders), so each response's
// headers decode on their own, with a decoder that has seen nothing
// before. (The client's request headers are still indexed: the second
// request here refers to the first's.)
func TestResponseHeadersNotIndexed(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, nil)
	conn := mustSendPreface(t, s.hostPort())
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var reqBlock bytes.Buffer
	enc := hpack.NewEncoder(&reqBlock)
	get := func(stream uint32) []byte {
		t.Helper()
		reqBlock.Reset()
		for _, f := range []hpack.HeaderField{
			{Name: ":method", Value: "GET"},
			{Name: ":scheme", Value: "http"},
			{Name: ":authority", Value: s.hostPort()},
			{Name: ":path", Value: "/healthz"},
		} {
			if err := enc.WriteField(f); err != nil {
				t.Fatal(err)
			}
		}
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: reqBlock.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
			t.Fatal(err)
		}
		var block []byte
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					if err := fr.WriteSettingsAck(); err != nil {
						t.Fatal(err)
					}
				}
			case *http2.HeadersFrame:
				if f.StreamID == stream {
					block = append(block, f.HeaderBlockFragment()...)
				}
			case *http2.ContinuationFrame:
				if f.StreamID == stream {
					block = append(block, f.HeaderBlockFragment()...)
				}
			}
			if f.Header().StreamID == stream && f.Header().Flags.Has(http2.FlagDataEndStream) {
				return block
			}
		}
	}
	first := get(1)
	second := get(3)
	t.Logf("response header blocks: %d and %d bytes", len(first), len(second))
	fields, err := hpack.NewDecoder(4096, nil).DecodeFull(second)
	if err != nil {
		t.Fatalf("the second response's headers refer to the first's: %v", err)
	}
	if len(fields) == 0 || fields[0].Name != ":status" || fields[0].Value != "200" {
		t.Fatalf("the second response's headers: %v", fields)
	}
}
