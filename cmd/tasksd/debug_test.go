package main

import (
	"net"
	"net/http"
	"testing"
)

// TestDebugListener: with DEBUG_ADDR, pprof is served on that listener
// only, never through the API's port.
func TestDebugListener(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a free port for the server's debug listener
	s := mustStartServer(t, map[string]string{"DEBUG_ADDR": addr})
	if code := mustGetStatus(t, "http://"+addr+"/debug/pprof/"); code != http.StatusOK {
		t.Errorf("pprof on DEBUG_ADDR: %d", code)
	}
	if code := mustGetStatus(t, s.baseURL+"/debug/pprof/"); code == http.StatusOK {
		t.Errorf("pprof reachable through the API port")
	}
}
