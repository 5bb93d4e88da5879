// Package apimessage holds the contract's rule for the message of an error
// a client gets (API.md, "Errors"): it echoes at most a few dozen
// characters of the input and names no Go types. The fuzz tests of every
// package that writes such messages check them with Check, so the rule is
// written once.
package apimessage

import (
	"bytes"
	"fmt"
	"regexp"
)

// MaxEcho is the most characters in a row of the input a message may
// repeat.
const MaxEcho = 64

// MaxLen bounds a whole message. Messages can list several schema
// violations, so this is far above one sentence, yet far below what
// echoing a request body would take.
const MaxLen = 4 << 10

// goType matches what only Go's %T and %#v print: a pointer to a
// package-qualified type (*tasksv1.Task, *v1.GetTaskRequest), a map or
// slice type, an interface or struct literal.
var goType = regexp.MustCompile(`\*\w+\.[A-Z]|\bmap\[\w|\[\][a-z*]|\binterface ?\{|\bstruct ?\{`)

// Check returns why msg may not go to a client that sent inputs, or nil.
func Check(msg string, inputs ...[]byte) error {
	if len(msg) > MaxLen {
		return fmt.Errorf("message is %d bytes, over %d", len(msg), MaxLen)
	}
	if m := goType.FindString(msg); m != "" {
		return fmt.Errorf("message names a Go type (%q)", m)
	}
	for _, in := range inputs {
		if echoes(msg, in) {
			return fmt.Errorf("message repeats more than %d characters of the input", MaxEcho)
		}
	}
	return nil
}

// echoes reports whether MaxEcho+1 characters in a row of msg are also in
// in. Such a run is at least MaxEcho+1 bytes long, so it is looked for by
// its first MaxEcho+1 bytes, with a rolling hash over in: one pass, however
// long msg and in are (a fuzz target checks millions of them).
func echoes(msg string, in []byte) bool {
	const n = MaxEcho + 1
	runs := map[uint64][]string{} // the runs of msg, by the hash of their first n bytes
	var starts []int              // where each character of msg begins
	for i := range msg {
		starts = append(starts, i)
	}
	for i := 0; i+n <= len(starts); i++ {
		end := len(msg)
		if i+n < len(starts) {
			end = starts[i+n]
		}
		run := msg[starts[i]:end]
		h := rollingHash([]byte(run[:n]))
		runs[h] = append(runs[h], run)
	}
	if len(runs) == 0 || len(in) < n {
		return false
	}
	h, out := rollingHash(in[:n]), rollingPower(n)
	for j := 0; ; j++ {
		for _, run := range runs[h] {
			if bytes.HasPrefix(in[j:], []byte(run)) {
				return true
			}
		}
		if j+n >= len(in) {
			return false
		}
		h = h*hashBase - uint64(in[j])*out + uint64(in[j+n])
	}
}

const hashBase = 1099511628211

// rollingHash is the polynomial hash of b that echoes rolls along its input.
func rollingHash(b []byte) uint64 {
	var h uint64
	for _, c := range b {
		h = h*hashBase + uint64(c)
	}
	return h
}

// rollingPower is hashBase to the n: the weight of the byte leaving a window
// of n bytes.
func rollingPower(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= hashBase
	}
	return p
}
