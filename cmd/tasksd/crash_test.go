package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
	"github.com/example/tasks/internal/faults"
	"github.com/example/tasks/internal/pgtest"
)

// Killed with SIGKILL while writers write, the server loses no write it
// acknowledged and runs no create twice when it is sent again after the
// crash, on SQLite and on PostgreSQL. `make faults` does this at length
// (tasks-bench crash); this is its short form.
func TestKillUnderWriters(t *testing.T) {
	for _, store := range []struct {
		name string
		url  func(testing.TB) string
	}{
		{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "tasks.db") }},
		{"postgres", pgtest.NewDatabase},
	} {
		t.Run(store.name, func(t *testing.T) {
			secret := mustRandomHex(t, 32)
			env := map[string]string{
				"LISTEN_ADDR": "127.0.0.1:0", "DATABASE_URL": store.url(t), "DATA_DIR": t.TempDir(),
				"AUTH_JWT_SECRET": secret, "LOG_LEVEL": "error",
			}
			var writers []*faults.Writer
			for i := range 8 {
				user := fmt.Sprintf("writer-%d", i%2)
				token, err := mintToken(config{JWTSecret: secret}, user, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				writers = append(writers, faults.NewWriter(user, token, fmt.Sprintf("w%d", i), uint64(i)))
			}
			start := func() (*process, func(int) faults.Client) {
				p := mustRun(t, env, "serve")
				cl := tasksv1connect.NewTaskServiceClient(h2cClient(), p.mustWaitListening(t))
				return p, func(int) faults.Client { return cl }
			}
			replayed := func() (n int) {
				for _, w := range writers {
					n += w.Stats.Replayed
				}
				return n
			}
			// At least 3 kills, and more (up to 20) until a create cut by
			// one had been made: sent again, it tests request_id.
			var violations []string
			for kills := 0; kills < 3 || (replayed() == 0 && kills < 20); kills++ {
				p, client := start()
				violations = append(violations, faults.RunDuring(writers, client, func() {
					time.Sleep(300 * time.Millisecond)
					p.kill()
				})...)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, client := start()
			res, err := faults.Finish(ctx, writers, client)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range append(violations, res.Violations...) {
				t.Error(v)
			}
			// The kills must have cut calls, or the test proved nothing.
			if res.Stats.Acked == 0 || res.Stats.InDoubt == 0 || res.Stats.Replayed == 0 || res.Expected == 0 {
				t.Errorf("writes acknowledged %d, in doubt %d, creates in doubt made %d, tasks expected %d: want each above 0",
					res.Stats.Acked, res.Stats.InDoubt, res.Stats.Replayed, res.Expected)
			}
		})
	}
}

// kill ends the process with SIGKILL and waits for it to go.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.gone
}
