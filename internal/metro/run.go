package metro

import (
	"context"
	"log/slog"
	"time"
)

// Run clears and then settles the taps of every feed feeds names, every
// so often, until ctx ends: the "ride first, pay later" back office
// running by itself. Both steps are exactly-once, so several processes
// on one database may run it at once. A feed that fails is logged and
// tried again at the next round.
func (s *Service) Run(ctx context.Context, every time.Duration, feeds func(context.Context) ([]string, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.RunOnce(ctx, feeds)
	}
}

// RunOnce is one round of Run.
func (s *Service) RunOnce(ctx context.Context, feeds func(context.Context) ([]string, error)) {
	ids, err := feeds(ctx)
	if err != nil {
		if ctx.Err() == nil {
			slog.Error("listing metro feeds", "err", err.Error())
		}
		return
	}
	for _, feed := range ids {
		start := time.Now()
		cl, err := s.Clear(ctx, feed, ClearOptions{})
		if err != nil {
			if ctx.Err() == nil {
				slog.Error("clearing taps", "feed", feed, "err", err.Error())
			}
			continue
		}
		st, err := s.Settle(ctx, feed, SettleOptions{})
		if err != nil {
			if ctx.Err() == nil {
				slog.Error("settling trips", "feed", feed, "err", err.Error())
			}
			continue
		}
		if cl.Taps > 0 || st.Trips > 0 {
			slog.Info("metro cleared and settled", "feed", feed, "taps", cl.Taps, "trips", cl.Trips, "pending", cl.Pending,
				"rejected", cl.Rejected, "settled", st.Trips, "took", time.Since(start).String())
		}
	}
}
