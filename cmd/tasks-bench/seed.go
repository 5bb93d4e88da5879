package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// deepPage is the page list-deep reads: the 100th page of pageSize.
const (
	pageSize = 50
	deepPage = 100
	// maxIDs bounds the task ids kept per user: plenty to spread gets and
	// updates over, and the tool's memory small with deep users.
	maxIDs = 1000
)

// user is one caller of the API: its token and what seeding gave it.
type user struct {
	id    string
	token string
	tasks []string // ids of its tasks
	// deepToken is the next_page_token that leads to page deepPage (deep
	// users only), found by walking the pages during seeding.
	deepToken string
}

// population is every user of a run: regular users, with a few dozen
// tasks each, and deep users, with enough for deepPage pages.
type population struct {
	regular []*user
	deep    []*user
}

type seedConfig struct {
	users, tasks         int // regular users and tasks each
	deepUsers, deepTasks int
	concurrency          int
	// prefix names the users, so runs against one database share them.
	prefix string
}

// seed creates the users' tasks through the API, unless a user has enough
// already (an earlier run against the same database), then reads back
// their ids and, for deep users, walks to page deepPage.
func seed(ctx context.Context, p *pool, id *identity, c seedConfig) (*population, error) {
	pop := &population{}
	mk := func(kind string, i int) (*user, error) {
		u := &user{id: fmt.Sprintf("%s-%s-%05d", c.prefix, kind, i)}
		var err error
		u.token, err = id.token(u.id, 24*time.Hour)
		return u, err
	}
	for i := range c.users {
		u, err := mk("user", i)
		if err != nil {
			return nil, err
		}
		pop.regular = append(pop.regular, u)
	}
	for i := range c.deepUsers {
		u, err := mk("deep", i)
		if err != nil {
			return nil, err
		}
		pop.deep = append(pop.deep, u)
	}

	type job struct {
		u    *user
		want int
	}
	var jobs []job
	for _, u := range pop.regular {
		jobs = append(jobs, job{u, c.tasks})
	}
	for _, u := range pop.deep {
		jobs = append(jobs, job{u, c.deepTasks})
	}
	var created atomic.Int64
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fmt.Fprintf(os.Stderr, "\rseeding: %d tasks created in %.0fs   ", created.Load(), time.Since(start).Seconds())
			}
		}
	}()
	defer func() { close(stop); wg.Wait(); fmt.Fprintln(os.Stderr) }()

	// Creates: one unit of work per task, spread over the connections.
	g := newGroup(ctx)
	work := make(chan *user, 1024)
	for i := range c.concurrency {
		cl := p.client(i)
		g.do(func(ctx context.Context) error {
			for u := range work {
				_, err := cl.CreateTask(withToken(ctx, u.token), newTaskRequest(int(created.Add(1))))
				if err != nil {
					return fmt.Errorf("seeding %s: %w", u.id, err)
				}
			}
			return nil
		})
	}
	g.do(func(ctx context.Context) error {
		defer close(work)
		for _, j := range jobs {
			have, err := p.client(0).ListTasks(withToken(ctx, j.u.token), &tasksv1.ListTasksRequest{PageSize: 1, IncludeTotalSize: true})
			if err != nil {
				return fmt.Errorf("seeding %s: %w", j.u.id, err)
			}
			for range j.want - int(have.GetTotalSize()) {
				select {
				case work <- j.u:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		return nil
	})
	if err := g.wait(); err != nil {
		return nil, err
	}

	// Read back ids and page tokens.
	g = newGroup(ctx)
	next := make(chan job)
	for i := range c.concurrency {
		cl := p.client(i)
		g.do(func(ctx context.Context) error {
			for j := range next {
				if err := readBack(ctx, cl, j.u, j.want); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.do(func(ctx context.Context) error {
		defer close(next)
		for _, j := range jobs {
			select {
			case next <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	if err := g.wait(); err != nil {
		return nil, err
	}
	return pop, nil
}

// group runs functions until the first fails, which cancels the others'
// context (errgroup, without the dependency).
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

func newGroup(ctx context.Context) *group {
	g := &group{}
	g.ctx, g.cancel = context.WithCancel(ctx)
	return g
}

func (g *group) do(f func(ctx context.Context) error) {
	g.wg.Go(func() {
		if err := f(g.ctx); err != nil {
			g.once.Do(func() { g.err = err; g.cancel() })
		}
	})
}

func (g *group) wait() error {
	g.wg.Wait()
	g.cancel()
	return g.err
}

// readBack lists u's tasks: the ids of a regular user's first want tasks,
// and for a deep user the ids of its first pages and the token to page
// deepPage.
func readBack(ctx context.Context, cl interface {
	ListTasks(context.Context, *tasksv1.ListTasksRequest) (*tasksv1.ListTasksResponse, error)
}, u *user, want int) error {
	ctx = withToken(ctx, u.token)
	deep := want >= deepPage*pageSize
	token := ""
	for page := 1; ; page++ {
		if deep && page == deepPage {
			u.deepToken = token
			return nil
		}
		resp, err := cl.ListTasks(ctx, &tasksv1.ListTasksRequest{PageSize: pageSize, PageToken: token})
		if err != nil {
			return fmt.Errorf("listing %s: %w", u.id, err)
		}
		if len(u.tasks) < maxIDs {
			for _, t := range resp.GetTasks() {
				u.tasks = append(u.tasks, t.GetId())
			}
		}
		token = resp.GetNextPageToken()
		if !deep && len(u.tasks) >= min(want, maxIDs) {
			return nil // enough ids; the user may have more from earlier runs
		}
		if token == "" {
			if deep {
				return errors.New("deep user has fewer than 100 pages")
			}
			return nil
		}
	}
}

// descriptions are the bodies of created tasks: short, as typed by people.
var description = "Benchmark task: a description of about a hundred characters, as a person would type into a form."

func newTaskRequest(n int) *tasksv1.CreateTaskRequest {
	return &tasksv1.CreateTaskRequest{
		Title:       fmt.Sprintf("Benchmark task %d", n),
		Description: description,
		Priority:    tasksv1.Priority(1 + n%3),
		Tags:        []string{"bench", fmt.Sprintf("t%d", n%8)},
		RequestId:   uuid.NewString(),
	}
}
