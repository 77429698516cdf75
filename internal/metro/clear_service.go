package metro

import (
	"context"
	"time"

	"piao/internal/fault"
)

// ClearOptions tune a clearing run.
type ClearOptions struct {
	// Until is the cut-off: every tap at or before it has arrived. Zero
	// means now less the service's TapLateness.
	Until time.Time
	// Page is about how many open taps one transaction clears (default
	// 20,000); an account's taps are never split across pages.
	Page int
	// Progress, if set, is told how many taps are cleared so far.
	Progress func(cleared int)
}

// ClearReport says what a clearing run did.
type ClearReport struct {
	Until    time.Time `json:"until"`
	Taps     int       `json:"taps"`    // open taps read
	Trips    int       `json:"trips"`   // trips new in the store
	Pending  int       `json:"pending"` // taps left open for a later run
	Rejected int       `json:"rejected"`
	// Rejections are the first MaxRejections rejected taps and why.
	Rejections []RefusedTap `json:"rejections,omitempty"`
}

// MaxRejections bounds how many rejected taps a report lists.
const MaxRejections = 100

// DefaultTapLateness is how late a gate's tap may arrive and still be
// paired: the default cut-off of a clearing run is this long before now.
const DefaultTapLateness = 30 * time.Minute

// Clear pairs the feed's open taps into priced trips and stores them
// (SPEC M2), exactly once per trip: a trip's ID comes from the tap that
// opened it and the store keeps the first of each ID, so clearing again,
// or two runs at once, store each trip once. Taps are read whole account
// by whole account; taps still waiting for their pair by the cut-off stay
// open for the next run. A tap clearing rejects (a station since taken off
// the network) is closed so it is not read again, and listed in the report.
func (s *Service) Clear(ctx context.Context, feed string, o ClearOptions) (ClearReport, error) {
	now := s.cfg.Now()
	rep := ClearReport{Until: o.Until}
	if rep.Until.IsZero() {
		rep.Until = now.Add(-s.cfg.TapLateness)
	}
	if rep.Until.After(now) {
		return rep, fault.New(fault.Invalid, "until_in_future", "截止时间不能晚于当前时间", "the cut-off cannot be later than now")
	}
	rep.Until = rep.Until.UTC()
	if o.Page <= 0 {
		o.Page = 20_000
	}
	if feed == "" {
		return rep, fault.New(fault.Invalid, "feed_required", "缺少线网编号", "the feed is required")
	}
	if s.cfg.FareTable == nil {
		return rep, fault.New(fault.Unavailable, "no_fare_table", "未配置票价表", "no fare table is configured")
	}
	ft, err := s.cfg.FareTable(ctx, feed)
	if err != nil {
		return rep, err
	}
	c, err := NewClearer(ft, s.cfg.Rules)
	if err != nil {
		return rep, err
	}
	var after int64
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		taps, err := s.store.OpenTaps(ctx, feed, after, o.Page)
		if err != nil {
			return rep, err
		}
		if len(taps) == 0 {
			return rep, nil
		}
		after = taps[len(taps)-1].Account
		cl := c.ClearUntil(taps, rep.Until)
		closed := cl.TapIDs()
		for _, r := range cl.Rejected {
			if r.Tap.ID != "" {
				closed = append(closed, r.Tap.ID)
			}
			if len(rep.Rejections) < MaxRejections {
				ref := RefusedTap{ID: r.Tap.ID, Reason: "rejected", Detail: r.Err.Error()}
				if fe := fault.As(r.Err); fe != nil {
					ref.Reason, ref.Detail = fe.Reason, fe.EN
				}
				rep.Rejections = append(rep.Rejections, ref)
			}
		}
		n, err := s.store.AddTrips(ctx, cl.Trips, closed)
		if err != nil {
			return rep, err
		}
		rep.Taps += len(taps)
		rep.Trips += n
		rep.Pending += len(cl.Pending)
		rep.Rejected += len(cl.Rejected)
		if o.Progress != nil {
			o.Progress(rep.Taps - rep.Pending)
		}
	}
}
