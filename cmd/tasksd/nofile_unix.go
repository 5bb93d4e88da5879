//go:build unix

package main

import "syscall"

// openFileLimit is the process's limit on open files (RLIMIT_NOFILE), which
// Go raises to the hard limit at start; 0 when unknown.
func openFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return uint64(lim.Cur) // int64 on some systems
}
