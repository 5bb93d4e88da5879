package main

import (
	"net/http"
	"testing"
)

// TestDebugListener: with DEBUG_ADDR, pprof is served on that listener
// only, never through the API's port.
func TestDebugListener(t *testing.T) {
	t.Parallel()
	addr := mustFreeAddr(t)
	s := mustStartServer(t, map[string]string{"DEBUG_ADDR": addr})
	if code := mustGetStatus(t, "http://"+addr+"/debug/pprof/"); code != http.StatusOK {
		t.Errorf("pprof on DEBUG_ADDR: %d", code)
	}
	if code := mustGetStatus(t, s.baseURL+"/debug/pprof/"); code == http.StatusOK {
		t.Errorf("pprof reachable through the API port")
	}
}
