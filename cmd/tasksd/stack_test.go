package main

import (
	"runtime"
	"sync"
	"testing"
)

// TestGrowStack checks what withStack relies on, so that a runtime that
// changes underneath it fails here instead of quietly costing CPU again: a
// new goroutine's stack starts below 16 KiB, and growStack takes it to 16
// KiB in one step, no further (past 16 KiB the runtime no longer caches
// stacks per P). BENCHMARKS.md has what the growth is worth. Not parallel:
// it counts the stack memory of goroutines it starts.
func TestGrowStack(t *testing.T) {
	const cached = 16 << 10
	plain := stackPerGoroutine(func() {})
	grown := stackPerGoroutine(growStack)
	t.Logf("stack per goroutine: %.0f bytes new, %.0f after growStack", plain, grown)
	if plain >= cached {
		t.Errorf("new goroutines start with %.0f bytes of stack: growing them to 16 KiB saves nothing; remove withStack", plain)
	}
	if grown < 12<<10 || grown > 20<<10 {
		t.Errorf("growStack leaves %.0f bytes of stack per goroutine, want 16 KiB: adjust stackReserve", grown)
	}
}

// stackPerGoroutine returns the stack memory each of many goroutines holds
// after running f.
func stackPerGoroutine(f func()) float64 {
	const n = 2000
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	release := make(chan struct{})
	var ran sync.WaitGroup
	ran.Add(n)
	for range n {
		go func() {
			f()
			ran.Done()
			<-release
		}()
	}
	ran.Wait()
	runtime.ReadMemStats(&after)
	close(release)
	return float64(int64(after.StackInuse)-int64(before.StackInuse)) / n
}
