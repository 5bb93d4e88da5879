package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/attack"
)

// attacks are what `tasks-bench attack` can run (issue 14 has the figures
// each was first run for).
var attacks = []string{"none", "slow-h2", "slow-h1", "flood", "slow-health", "idle-h1", "idle-h2", "health-watch", "rapid-reset"}

type attackFlags struct {
	targetFlags
	name            string
	duration        time.Duration
	n, conns        int
	interval        time.Duration
	victims         int
	victimRate      float64
	victimUsers     int
	pid             int
	reconnect       bool
	resetsPerConn   int
	victimProtocol  string
	attackerSubject string
	minSuccess      float64
}

// runAttack runs one attack against a server while a well-behaved user
// (the victim) calls it, and reports the victim's success rate and
// latency, what the server did to the attacker, and the server's peak
// memory and CPU time.
func runAttack(ctx context.Context, args []string) error {
	var f attackFlags
	fs := flag.NewFlagSet("tasks-bench attack", flag.ContinueOnError)
	f.targetFlags.register(fs)
	fs.StringVar(&f.name, "attack", "slow-h2", "one of: "+strings.Join(attacks, ", "))
	fs.DurationVar(&f.duration, "d", 20*time.Second, "how long the attack runs")
	fs.IntVar(&f.n, "n", 0, "size: streams per connection (slow-h2), connections (slow-h1, slow-health, idle-*), concurrent calls (flood), watches (health-watch); 0: issue 14's figure")
	fs.IntVar(&f.conns, "conns", 2, "connections (slow-h2, rapid-reset)")
	fs.DurationVar(&f.interval, "interval", time.Second, "slow-*: time between body bytes")
	fs.BoolVar(&f.reconnect, "reconnect", true, "replace what the server cuts off, so the attack keeps its size")
	fs.IntVar(&f.resetsPerConn, "resets-per-conn", 0, "rapid-reset: streams per connection before it is left alone (0: no limit)")
	fs.IntVar(&f.victims, "victims", 0, "the victim's calls: closed loop, this many at once")
	fs.Float64Var(&f.victimRate, "victim-rate", 100, "the victim's calls: open loop, this many a second (when -victims is 0; 0 and -victims 0: no victim)")
	fs.IntVar(&f.victimUsers, "victim-users", 20, "the victims' calls are spread over this many users")
	fs.StringVar(&f.victimProtocol, "victim-protocol", "connect-proto", "the victim's protocol")
	fs.Float64Var(&f.minSuccess, "min-success", 0, "fail (exit 1) when fewer than this percentage of the victim's calls succeed")
	fs.IntVar(&f.pid, "pid", 0, "with -url: the server's pid, to measure its memory and CPU")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := f.targetFlags.check(); err != nil {
		return err
	}
	run, err := f.attack()
	if err != nil {
		return err
	}
	tg, err := f.targetFlags.start(ctx, false)
	if err != nil {
		return err
	}
	defer tg.close()
	pid := f.pid
	if tg.srv != nil {
		pid = tg.srv.pid()
	}
	u, err := url.Parse(tg.baseURL)
	if err != nil {
		return err
	}

	victim, err := f.victim(ctx, tg)
	if err != nil {
		return err
	}
	env := attackEnv{
		target:  attack.Target{Addr: u.Host, Token: mustToken(tg.id, "attack-attacker")},
		baseURL: tg.baseURL,
		pool:    func() (*pool, error) { return newPool(tg.baseURL, "connect-proto", 4, false) },
	}
	var mem *memSampler
	if pid != 0 {
		mem = sampleMemory(pid, 100*time.Millisecond)
		defer mem.close()
	}
	cpuBefore, _ := cpuTime(pid)
	rssBefore := rssMiB(pid)
	attackCtx, stop := context.WithTimeout(ctx, f.duration)
	defer stop()
	report := make(chan string, 1)
	go func() { report <- run(attackCtx, env) }()
	// The victim starts a moment later, once the attack is under way.
	time.Sleep(min(time.Second, f.duration/4))
	v := victim(attackCtx)
	attackReport := <-report
	cpuAfter, _ := cpuTime(pid)

	fmt.Printf("attack %s for %v: %s\n", f.name, f.duration, attackReport)
	if v != nil {
		fmt.Printf("victim: %d calls, %.2f%% succeeded, p50 %v, p99 %v, max %v", v.Calls, 100*v.SuccessRate(), v.P50, v.P99, v.Max)
		if len(v.Codes) > 0 {
			fmt.Printf(", failed: %v", v.Codes)
		}
		fmt.Println()
	}
	if pid != 0 {
		peak, _ := mem.peaks()
		fmt.Printf("server: RSS %.0f MiB before, peak %.0f MiB, %.0f MiB after; CPU %.2f s (%.2f cores)\n",
			rssBefore, peak, rssMiB(pid), (cpuAfter - cpuBefore).Seconds(), (cpuAfter-cpuBefore).Seconds()/f.duration.Seconds())
	}
	if v != nil && 100*v.SuccessRate() < f.minSuccess {
		return fmt.Errorf("the victim's calls succeeded %.2f%%, below %.2f%%", 100*v.SuccessRate(), f.minSuccess)
	}
	return nil
}

// victim returns the well-behaved users' calls until ctx ends, as
// -victims or -victim-rate say: each a GetTask of one of -victim-users
// users, in turn, of a task of that user's own; nil when there is no
// victim. Spread over users, the victims' calls stay within a user's share
// however slow the server gets.
func (f attackFlags) victim(ctx context.Context, tg *target) (func(context.Context) *attack.Summary, error) {
	if f.victims == 0 && f.victimRate == 0 {
		return func(ctx context.Context) *attack.Summary { <-ctx.Done(); return nil }, nil
	}
	p, err := newPool(tg.baseURL, f.victimProtocol, 1, false)
	if err != nil {
		return nil, err
	}
	type user struct{ token, task string }
	users := make([]user, max(1, f.victimUsers))
	for i := range users {
		token := mustToken(tg.id, fmt.Sprintf("attack-victim-%d", i))
		created, err := p.any().CreateTask(withToken(ctx, token), &tasksv1.CreateTaskRequest{Title: "victim's task"})
		if err != nil {
			p.close()
			return nil, fmt.Errorf("a victim's first call: %w", err)
		}
		users[i] = user{token, created.GetTask().GetId()}
	}
	var next atomic.Uint64
	get := func(ctx context.Context) error {
		u := users[(next.Add(1)-1)%uint64(len(users))]
		_, err := p.any().GetTask(withToken(ctx, u.token), &tasksv1.GetTaskRequest{Id: u.task})
		return err
	}
	return func(ctx context.Context) *attack.Summary {
		defer p.close()
		var s attack.Summary
		if f.victims > 0 {
			s = attack.Calls(ctx, f.victims, get)
		} else {
			s = attack.CallsAt(ctx, f.victimRate, get)
		}
		return &s
	}, nil
}

func mustToken(id *identity, sub string) string {
	tok, err := id.token(sub, time.Hour)
	if err != nil {
		panic(err) // signing with a key the tool made
	}
	return tok
}

// attackEnv is what an attack needs of the target.
type attackEnv struct {
	target  attack.Target
	baseURL string
	pool    func() (*pool, error)
}

// attack returns the chosen attack: it runs until ctx ends and returns a
// line about what the server did to it.
func (f attackFlags) attack() (func(context.Context, attackEnv) string, error) {
	size := func(def int) int {
		if f.n > 0 {
			return f.n
		}
		return def
	}
	trickle := attack.Trickle{Interval: f.interval, Reconnect: f.reconnect}
	slowReport := func(p *attack.Progress) string {
		return fmt.Sprintf("%d requests started, %d cut off by the server, %d still open", p.Started(), p.Cut(), p.Open())
	}
	switch f.name {
	case "none":
		return func(ctx context.Context, _ attackEnv) string { <-ctx.Done(); return "no attack" }, nil
	case "slow-h2":
		return func(ctx context.Context, e attackEnv) string {
			var p attack.Progress
			attack.SlowBodiesHTTP2(ctx, e.target, f.conns, size(200), trickle, &p)
			return slowReport(&p)
		}, nil
	case "slow-h1":
		return func(ctx context.Context, e attackEnv) string {
			var p attack.Progress
			attack.SlowBodiesHTTP1(ctx, e.target, size(300), trickle, &p)
			return slowReport(&p)
		}, nil
	case "slow-health":
		return func(ctx context.Context, e attackEnv) string {
			var p attack.Progress
			t := trickle
			t.Path = attack.HealthCheckPath
			attack.SlowBodiesHTTP1(ctx, attack.Target{Addr: e.target.Addr}, size(2000), t, &p)
			return slowReport(&p)
		}, nil
	case "idle-h1", "idle-h2":
		return func(ctx context.Context, e attackEnv) string {
			var p attack.Progress
			attack.IdleConns(ctx, e.target.Addr, size(2000), f.name == "idle-h2", f.reconnect, &p)
			return fmt.Sprintf("%d connections opened, %d closed by the server, %d still open", p.Started(), p.Cut(), p.Open())
		}, nil
	case "health-watch":
		return func(ctx context.Context, e attackEnv) string {
			var p attack.WatchProgress
			attack.HealthWatches(ctx, &http.Client{Transport: h2cTransport()}, e.baseURL, size(2000), &p)
			return fmt.Sprintf("%d watches opened, %d refused (%v)", p.Opened(), p.Refused(), p.RefusedCode())
		}, nil
	case "flood":
		return func(ctx context.Context, e attackEnv) string {
			p, err := e.pool()
			if err != nil {
				return err.Error()
			}
			defer p.close()
			ctx = withToken(ctx, e.target.Token)
			s := attack.Calls(ctx, size(300), func(ctx context.Context) error {
				_, err := p.any().ListTasks(ctx, &tasksv1.ListTasksRequest{})
				return err
			})
			return fmt.Sprintf("one user's %d calls, %.1f%% succeeded, failed: %v", s.Calls, 100*s.SuccessRate(), s.Codes)
		}, nil
	case "rapid-reset":
		return func(ctx context.Context, e attackEnv) string {
			var p attack.ResetProgress
			attack.RapidReset(ctx, e.target, f.conns, attack.Resets{PerConn: f.resetsPerConn, Reconnect: f.reconnect}, &p)
			return fmt.Sprintf("%d streams opened and reset (%.0f/s) on %d connections, %d closed by the server",
				p.Streams(), float64(p.Streams())/f.duration.Seconds(), p.Conns(), p.ClosedByServer())
		}, nil
	}
	return nil, fmt.Errorf("unknown attack %q (want one of %s)", f.name, strings.Join(attacks, ", "))
}

// h2cTransport speaks cleartext HTTP/2, one connection for every stream.
func h2cTransport() *http.Transport {
	t := &http.Transport{}
	t.Protocols = new(http.Protocols)
	t.Protocols.SetUnencryptedHTTP2(true)
	return t
}
