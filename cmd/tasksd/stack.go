package main

import "net/http"

// withStack grows the goroutine stack of each request to 16 KiB before
// anything else runs. HTTP/2 serves every request on a new goroutine whose
// stack starts at a few KiB; an API call (CORS, auth, Connect, four
// interceptors, validation, bun, database/sql, pgdriver) then outgrows it
// two or three times deep in the call chain, and each growth copies and
// re-walks every frame: about 8% of the server's CPU in GetTask. Growing
// once here, where the stack is shallow, is one cheap copy; 16 KiB is the
// largest size the runtime keeps per-P caches of. (CockroachDB's growstack
// package does the same for its SQL goroutines.) BENCHMARKS.md has what it
// saves; TestGrowStack fails when the runtime changes what it relies on.
func withStack(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		growStack()
		next.ServeHTTP(w, r)
	})
}

// stackReserve is the frame growStack needs: with the frames below it and
// the runtime's guard, more than 8 KiB and less than 16 KiB, so the stack
// doubles straight to 16 KiB.
const stackReserve = 12 << 10

//go:noinline
func growStack() {
	var buf [stackReserve]byte
	keep(&buf)
}

// keep stops the compiler from dropping growStack's array; the array does
// not escape, so it stays on the stack.
//
//go:noinline
func keep(b *[stackReserve]byte) { b[0] = 1 }
