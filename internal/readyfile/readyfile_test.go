package readyfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteThenWait(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ready.json")
	want := Info{URL: "http://127.0.0.1:8080", PID: 42}
	go func() {
		time.Sleep(50 * time.Millisecond)
		if err := Write(path, want); err != nil {
			t.Error(err)
		}
	}()
	got, err := Wait(context.Background(), path, nil)
	if err != nil || got != want {
		t.Fatalf("Wait = %+v, %v; want %+v", got, err, want)
	}
	// Nothing but the file itself is left in the directory.
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %v (%v), want only the ready file", entries, err)
	}
}

func TestWaitGivesUp(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ready.json")

	exited := make(chan struct{})
	close(exited)
	if _, err := Wait(context.Background(), path, exited); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("server gone: got %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Wait(ctx, path, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: got %v", err)
	}
}

func TestWaitRejectsAFileWithoutURL(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ready.json")
	if err := os.WriteFile(path, []byte(`{"pid": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Wait(context.Background(), path, nil); err == nil {
		t.Error("a file without a URL was accepted")
	}
}
