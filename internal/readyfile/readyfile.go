package readyfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Info is what a ready file holds.
type Info struct {
	// URL is where the server listens: http://host:port for tasksd, a
	// postgres:// URL of the maintenance database for cmd/pgtest.
	URL string `json:"url"`
	// PID is the process that serves URL (for PostgreSQL, the postmaster),
	// for tools that measure it.
	PID int `json:"pid"`
}

// Write writes info to path atomically: a reader sees no file or the whole
// file, never part of one.
func Write(path string, info Info) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// pollInterval is how often Wait looks for the file.
const pollInterval = 20 * time.Millisecond

// Wait waits until path holds an Info and returns it. It gives up when ctx
// ends or when exited (the server's exit, if the caller can see it; nil
// otherwise) is closed first.
func Wait(ctx context.Context, path string, exited <-chan struct{}) (Info, error) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			var info Info
			if err := json.Unmarshal(data, &info); err != nil || info.URL == "" {
				return Info{}, fmt.Errorf("readyfile: %s holds no URL: %q", path, data)
			}
			return info, nil
		case !errors.Is(err, fs.ErrNotExist):
			return Info{}, err
		}
		select {
		case <-ctx.Done():
			return Info{}, fmt.Errorf("readyfile: waiting for %s: %w", path, context.Cause(ctx))
		case <-exited:
			return Info{}, errors.New("readyfile: the server exited before it was ready")
		case <-t.C:
		}
	}
}
