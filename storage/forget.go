package storage

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// How deletions past the retention are forgotten: in batches small enough
// to hold each user's row only briefly, every forgetEvery (with jitter, so
// replicas started together do not run in step).
const (
	forgetEvery = 10 * time.Minute
	forgetBatch = 500
)

// ForgetDeletions forgets, until ctx ends, the deletions older than
// Config.ChangeRetention: it removes their tombstones and raises each
// user's purged_seq, so a cursor from before them is recognised as expired.
// Several replicas may run it at once.
func (s *Store) ForgetDeletions(ctx context.Context) {
	for {
		for {
			n, err := s.forgetBatch(ctx, time.Now().Add(-s.cfg.ChangeRetention))
			if err != nil {
				if ctx.Err() == nil {
					s.cfg.Logger.Warn("storage: forgetting old deletions", "err", err)
				}
				break
			}
			if n < forgetBatch {
				break
			}
		}
		sleep(ctx, forgetEvery+rand.N(forgetEvery/4))
		if ctx.Err() != nil {
			return
		}
	}
}

// forgetBatch forgets up to forgetBatch of the oldest deletions made before
// cutoff, in one transaction, and returns how many it found.
func (s *Store) forgetBatch(ctx context.Context, cutoff time.Time) (int, error) {
	var found int
	err := s.run(ctx, writeTx, func(ctx context.Context, tx bun.Tx) error {
		var old []tombstoneRow
		if err := tx.NewSelect().Model(&old).Column("d.user_id", "d.change_seq").
			Where("d.delete_time < ?", someTime(cutoff)).
			OrderExpr("d.delete_time").Limit(forgetBatch).Scan(ctx); err != nil {
			return err
		}
		found = len(old)
		// Per user, the newest of its deletions to forget; users in id
		// order, so that replicas forgetting at once lock their rows in the
		// same order.
		newest := map[string]int64{}
		for _, d := range old {
			newest[d.UserID] = max(newest[d.UserID], d.ChangeSeq)
		}
		users := make([]string, 0, len(newest))
		for u := range newest {
			users = append(users, u)
		}
		slices.Sort(users)
		for _, u := range users {
			seq := newest[u]
			if _, err := tx.NewUpdate().TableExpr("users AS u").
				Set("purged_seq = CASE WHEN u.purged_seq < ?0 THEN ?0 ELSE u.purged_seq END", seq).
				Where("u.user_id = ?", u).Exec(ctx); err != nil {
				return err
			}
			if _, err := tx.NewDelete().Model((*tombstoneRow)(nil)).
				Where("d.user_id = ? AND d.change_seq <= ?", u, seq).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	return found, err
}
