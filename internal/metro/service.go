package metro

import (
	"context"
	"time"

	"piao/internal/fault"
)

// ErrNotRunning is what the API and the console answer for metro clearing in a
// process that does not run them.
var ErrNotRunning = fault.New(fault.Unavailable, "metro_unavailable", "地铁清分服务未启动", "metro clearing is not running in this process")

// Service runs the metro side: gates' taps in, trips cleared, ledger lines
// settled. It holds no state of its own beyond its store.
type Service struct {
	store Store
	cfg   Config
}

// Config configures a Service.
type Config struct {
	Now func() time.Time
	// Stations reports whether a station is on a feed's network; taps at
	// other stations are refused at ingest.
	Stations func(ctx context.Context, feed string) (map[string]bool, error)
	// FareTable returns the fare table of a feed's metro network, which
	// clearing prices trips by.
	FareTable func(ctx context.Context, feed string) (*FareTable, error)
	// Rules are the incomplete-trip rules (default DefaultRules()).
	Rules Rules
	// TapLateness is how late a tap may reach us and still be paired
	// (default DefaultTapLateness); see ClearOptions.Until.
	TapLateness time.Duration
	// Spend, if set, applies monthly spend tiers to every settlement run.
	Spend *Spend
}

// NewService returns a service over st.
func NewService(st Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rules.MaxTrip == 0 {
		cfg.Rules = DefaultRules()
	}
	if cfg.TapLateness <= 0 {
		cfg.TapLateness = DefaultTapLateness
	}
	return &Service{store: st, cfg: cfg}
}

// Trip returns a cleared trip by ID.
func (s *Service) Trip(ctx context.Context, id string) (Trip, error) { return s.store.Trip(ctx, id) }

// AccountTrips returns an account's trips begun in [from, until).
func (s *Service) AccountTrips(ctx context.Context, account int64, from, until time.Time) ([]Trip, error) {
	return s.store.AccountTrips(ctx, account, from, until)
}

// Settlement returns the ledger line of a settled trip; a trip not settled
// yet has none (not found).
func (s *Service) Settlement(ctx context.Context, tripID string) (Settlement, error) {
	return s.store.Settlement(ctx, tripID)
}

// SettledRides returns a page of a feed's settled trips begun in [from,
// until), whole accounts after afterAccount at a time (see
// Store.SettledRides): what ride-more-save-more counts.
func (s *Service) SettledRides(ctx context.Context, feed string, afterAccount int64, from, until time.Time, limit int) ([]SettledRide, error) {
	return s.store.SettledRides(ctx, feed, afterAccount, from, until, limit)
}

// UseStats counts the uses of a campaign's benefit by entry station, exit
// station and hour of entry, for trips begun in [from, until).
func (s *Service) UseStats(ctx context.Context, campaignID int64, from, until time.Time) ([]UseCount, error) {
	return s.store.UseStats(ctx, campaignID, from, until)
}

// MaxTapBatch bounds one ingest call.
const MaxTapBatch = 5_000

// maxTapSkew is how far in the future a gate's clock may be.
const maxTapSkew = 5 * time.Minute

// IngestResult says what became of a batch of taps: how many were new,
// how many were duplicates of stored taps (same ID), and which were
// refused and why, by index.
type IngestResult struct {
	Added      int          `json:"added"`
	Duplicates int          `json:"duplicates"`
	Refused    []RefusedTap `json:"refused,omitempty"`
}

// RefusedTap is one tap of a batch that was not stored.
type RefusedTap struct {
	Index  int    `json:"index"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// Ingest stores a batch of taps, idempotent by tap ID: resending a batch,
// whole or in part, in any order, stores each tap once. Taps that fail
// validation are refused one by one; the rest are stored.
func (s *Service) Ingest(ctx context.Context, taps []Tap) (IngestResult, error) {
	var res IngestResult
	if len(taps) > MaxTapBatch {
		return res, fault.Newf(fault.Invalid, "batch_too_large", "每批最多 %d 条刷卡记录", "at most %d taps a batch", MaxTapBatch)
	}
	stations := map[string]map[string]bool{}
	now := s.cfg.Now()
	ok := make([]Tap, 0, len(taps))
	seen := make(map[string]bool, len(taps))
	for i, t := range taps {
		if err := s.validTap(ctx, t, now, stations); err != nil {
			fe := fault.As(err)
			if fe == nil || fe.Code != fault.Invalid {
				return res, err
			}
			res.Refused = append(res.Refused, RefusedTap{Index: i, ID: t.ID, Reason: fe.Reason, Detail: fe.EN})
			continue
		}
		if seen[t.ID] {
			res.Duplicates++
			continue
		}
		seen[t.ID] = true
		t.At = t.At.UTC()
		ok = append(ok, t)
	}
	n, err := s.store.AddTaps(ctx, ok)
	if err != nil {
		return res, err
	}
	res.Added = n
	res.Duplicates += len(ok) - n
	return res, nil
}

func (s *Service) validTap(ctx context.Context, t Tap, now time.Time, stations map[string]map[string]bool) error {
	bad := func(reason, zh, en string) error { return fault.New(fault.Invalid, reason, zh, en) }
	switch {
	case t.ID == "" || len(t.ID) > 128:
		return bad("bad_tap_id", "刷卡记录编号应为 1 至 128 个字符", "a tap ID is 1 to 128 characters")
	case t.Dir != In && t.Dir != Out:
		return bad("bad_direction", "方向应为 in 或 out", "the direction is in or out")
	case t.Feed == "" || len(t.Feed) > 64:
		return bad("feed_required", "缺少线网编号", "the tap names no feed")
	case t.Account <= 0:
		return bad("account_required", "缺少乘车账户", "the tap names no account")
	case t.At.IsZero():
		return bad("tap_time_required", "缺少刷卡时间", "the tap has no time")
	case t.At.After(now.Add(maxTapSkew)):
		return bad("tap_in_future", "刷卡时间晚于当前时间", "the tap is later than now")
	case len(t.Gate) > 64 || len(t.Code) > 128:
		return bad("bad_tap_field", "闸机编号或乘车码过长", "the gate ID or code is too long")
	}
	if s.cfg.Stations == nil {
		return nil
	}
	st, ok := stations[t.Feed]
	if !ok {
		var err error
		st, err = s.cfg.Stations(ctx, t.Feed)
		if err != nil && !fault.Is(err, fault.NotFound) && !fault.Is(err, fault.Invalid) {
			return err
		}
		stations[t.Feed] = st // nil for a feed that is not there
	}
	if st == nil {
		return fault.Newf(fault.Invalid, "unknown_feed", "线网 %q 没有地铁线路", "feed %q has no metro lines", t.Feed)
	}
	if !st[t.Station] {
		return fault.Newf(fault.Invalid, "unknown_station", "车站 %s 不在线网 %s 中", "station %s is not on network %s", t.Station, t.Feed)
	}
	return nil
}

// Settle settles the feed's unsettled trips (see the package function).
func (s *Service) Settle(ctx context.Context, feed string, o SettleOptions) (SettleReport, error) {
	if o.Spend == nil {
		o.Spend = s.cfg.Spend
	}
	if o.Now == nil {
		o.Now = s.cfg.Now
	}
	return Settle(ctx, s.store, feed, o)
}
