//go:build !unix

package main

// openFileLimit is unknown here: connectionLimit falls back to its fixed
// maximum.
func openFileLimit() uint64 { return 0 }
