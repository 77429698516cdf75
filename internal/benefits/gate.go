package benefits

import (
	"context"
	"time"

	"piao/internal/fault"
	"piao/internal/ridecode"
)

// The refusals of a redemption at the gate besides the ride code's own
// (ridecode.Reason…: malformed, unknown issuer, bad signature, wrong
// network, expired, not yet valid).
var (
	// ErrRideCodesOff: the process has no issuer keys to verify codes with.
	ErrRideCodesOff = fault.New(fault.Unavailable, "ride_codes_unconfigured",
		"未配置乘车码签发方公钥，暂不能在闸机核销", "no ride code issuer keys are configured: redemption at the gate is unavailable")
	// ErrRideCodeUsed: a dynamic code already paid for another ride ID.
	ErrRideCodeUsed = fault.New(fault.Conflict, ridecode.ReasonReplayed,
		"该乘车码已用于另一行程的核销，请刷新乘车码", "this ride code already paid for another ride; refresh it")
	// ErrRiderMismatch: the code's ticket is not held by the code's account.
	ErrRiderMismatch = fault.New(fault.Conflict, "ride_rider_mismatch",
		"乘车码中的票券不属于该乘客", "the ticket in the ride code is not held by its rider")
	// ErrRideEntry: the entry time is not near the code's use.
	ErrRideEntry = fault.New(fault.Invalid, "ride_entry_out_of_range",
		"进站时间不在乘车码使用时间附近", "the entry time is not within the trip limit before the ride code was used")
)

// GateRide is a ride as a station gate reports it for redemption: what the
// gate measured, and the rider's ride code, which alone says who rides.
type GateRide struct {
	ID        string    // the ride ID: redeemed once
	Code      string    // the ride code's text as scanned
	From      string    // station entered
	To        string    // station left
	FromLine  string    // line entered, if known
	ToLine    string    // line left, if known
	Fare      int64     // fen, before benefits
	EnteredAt time.Time // entry time
}

// RideCodes reports whether gates can redeem rides: issuer keys are configured.
func (s *Service) RideCodes() bool { return s.cfg.RideCodes != nil }

// RedeemAtGate applies benefits to a ride a gate reports, once per ride ID.
//
// The rider is who the ride code says, verified against the configured
// issuer keys at now: the network is the code's, and a count or paper code
// pays with its own ticket only, which its account must hold. Rider
// categories come from verified enrolments (Config.RiderGroups) at the
// entry time; a paper ticket's rider is anyone holding the paper, so it
// gets none. A dynamic code pays for one ride ID (ErrRideCodeUsed after);
// the same ride ID sent again answers the first result, even once the code
// has expired.
func (s *Service) RedeemAtGate(ctx context.Context, g GateRide) (Redemption, bool, error) {
	v := s.cfg.RideCodes
	if v == nil {
		return Redemption{}, false, ErrRideCodesOff
	}
	now := s.cfg.Now()
	c, err := v.Verify(g.Code, now)
	if fault.As(err).Reason == ridecode.ReasonExpired {
		return s.replayExpired(ctx, g, err)
	}
	if err != nil {
		return Redemption{}, false, err
	}
	if g.EnteredAt.After(now.Add(v.Skew())) || g.EnteredAt.Before(now.Add(-s.cfg.TripLimit-v.Skew())) {
		return Redemption{}, false, ErrRideEntry
	}
	r := Ride{ID: g.ID, Feed: c.Network, From: g.From, To: g.To, FromLine: g.FromLine, ToLine: g.ToLine, Fare: g.Fare, EnteredAt: g.EnteredAt}
	if c.Kind != ridecode.KindPaper {
		r.Code = c.CodeID()
	}
	if c.Ticket != 0 {
		t, err := s.store.Ticket(ctx, c.Ticket)
		if fault.Is(err, fault.NotFound) || err == nil && t.Holder != c.Account {
			return Redemption{}, false, ErrRiderMismatch
		} else if err != nil {
			return Redemption{}, false, err
		}
	}
	return s.redeem(ctx, r, c.Account, c.Ticket, c.Kind != ridecode.KindPaper)
}

// replayExpired answers a ride redeemed before with the same dynamic code
// that has expired since (a gate retrying late) with the first result;
// anything else gets expired, the error Verify gave.
func (s *Service) replayExpired(ctx context.Context, g GateRide, expired error) (Redemption, bool, error) {
	c, err := ridecode.Parse(g.Code)
	if err != nil {
		return Redemption{}, false, expired
	}
	if _, err := s.cfg.RideCodes.Verify(g.Code, c.IssuedAt); err != nil {
		return Redemption{}, false, err // not signed by a trusted issuer: say so, not "expired"
	}
	red, err := s.store.Redemption(ctx, g.ID)
	if err != nil || red.Ride.Code == "" || red.Ride.Code != c.CodeID() || red.Account != c.Account {
		return Redemption{}, false, expired
	}
	return red, true, nil
}
