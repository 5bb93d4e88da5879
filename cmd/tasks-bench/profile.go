package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// captureProfiles fetches a CPU profile and an allocation profile covering
// the measured part of w from the server's debug listener, written to dir
// as NAME.cpu.pprof and NAME.allocs.pprof.
func captureProfiles(ctx context.Context, debugURL, dir, name string, w window) func() error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return func() error { return err }
	}
	secs := int(w.end.Sub(w.measure).Seconds())
	if secs < 1 {
		secs = 1
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	fetch := func(path, file string) {
		defer wg.Done()
		time.Sleep(time.Until(w.measure))
		err := download(ctx, fmt.Sprintf("%s%s?seconds=%d", debugURL, path, secs), filepath.Join(dir, file))
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	wg.Add(2)
	go fetch("/debug/pprof/profile", name+".cpu.pprof")
	go fetch("/debug/pprof/allocs", name+".allocs.pprof")
	return func() error { wg.Wait(); return errors.Join(errs...) }
}

func download(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
