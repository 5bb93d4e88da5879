package service

import (
	"sync"
	"time"
)

// userLimits keeps each user's calls in flight and a token bucket of the
// calls it may start. A bucket is kept as the time it will be full again
// (the generic cell rate algorithm: exact in integer time, one value per
// user). Memory follows recent activity, not every user ever seen: a user
// leaves the in-flight count when its last call ends, and its bucket once
// the bucket is full again (a full bucket is the same as none), swept
// whenever the buckets have doubled in number since the last sweep.
type userLimits struct {
	maxInFlight int           // 0: no limit but the replica's
	interval    time.Duration // between calls at the rate; 0: no rate limit
	burst       time.Duration // how far ahead of now a bucket's full time may be
	now         func() time.Time

	mu       sync.Mutex
	inFlight map[string]int
	full     map[string]time.Time // when each bucket is full again
	sweepAt  int
}

// minSweep is the fewest buckets worth a sweep.
const minSweep = 1024

func newUserLimits(l Limits) *userLimits {
	u := &userLimits{
		maxInFlight: l.MaxInFlightPerUser,
		now:         l.now,
		inFlight:    make(map[string]int),
		full:        make(map[string]time.Time),
		sweepAt:     minSweep,
	}
	if l.RatePerUser > 0 {
		u.interval = time.Second / time.Duration(l.RatePerUser)
		// A bucket holds a second's worth of calls: the call that empties
		// it leaves it full again a second later.
		u.burst = time.Second - u.interval
	}
	if u.now == nil {
		u.now = time.Now
	}
	return u
}

// allow takes one of user's tokens; false when it has none left. Calls
// without a user are not limited (authentication lets none through).
func (u *userLimits) allow(user string) bool {
	if u.interval == 0 || user == "" {
		return true
	}
	now := u.now()
	u.mu.Lock()
	defer u.mu.Unlock()
	full := u.full[user]
	if full.Before(now) {
		full = now
	}
	if full.Sub(now) > u.burst {
		return false
	}
	u.full[user] = full.Add(u.interval)
	if len(u.full) >= u.sweepAt {
		u.sweep(now)
	}
	return true
}

// sweep forgets the buckets that are full again.
func (u *userLimits) sweep(now time.Time) {
	for user, full := range u.full {
		if !full.After(now) {
			delete(u.full, user)
		}
	}
	u.sweepAt = max(minSweep, 2*len(u.full))
}

// acquire counts a call of user in flight; false, counting nothing, when
// the user already has its share.
func (u *userLimits) acquire(user string) bool {
	if u.maxInFlight == 0 || user == "" {
		return true
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.inFlight[user] >= u.maxInFlight {
		return false
	}
	u.inFlight[user]++
	return true
}

// release ends a call acquire counted.
func (u *userLimits) release(user string) {
	if u.maxInFlight == 0 || user == "" {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if n := u.inFlight[user]; n > 1 {
		u.inFlight[user] = n - 1
	} else {
		delete(u.inFlight, user)
	}
}
