package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/realname"
	"piao/internal/seats"
)

// Preferences at booking (SPEC R8, the paper's proposal 1). A passenger may
// ask for a berth, a window or aisle seat or a seat letter; a party may ask
// to sit together. Those are hard: a booking that cannot meet them does
// what the request's OnUnmet says, never something else silently. Two soft
// preferences are the operator's (Policy): passengers of 60 or over, and
// passengers who cancelled a middle or upper berth of the train before, get
// a lower berth first when they ask for any berth and one is free.

// OnUnmet says what a booking does when a preference cannot be met or the
// wanted seats are sold out.
type OnUnmet string

// What to do when a preference cannot be met.
const (
	// UnmetRefuse refuses with preference_unmet (or sold_out), naming the
	// other choices.
	UnmetRefuse OnUnmet = ""
	// UnmetAny takes any seat of the classes asked for, and says which
	// preferences it gave up.
	UnmetAny OnUnmet = "any"
	// UnmetWaitlist joins the waitlist for exactly what was asked (unpaid
	// until prepaid) instead of booking.
	UnmetWaitlist OnUnmet = "waitlist"
	// UnmetAlternatives books nothing and returns other trains ranked for
	// the wanted berth and arrival.
	UnmetAlternatives OnUnmet = "alternatives"
)

// Valid reports whether o is a known choice.
func (o OnUnmet) Valid() bool {
	switch o {
	case UnmetRefuse, UnmetAny, UnmetWaitlist, UnmetAlternatives:
		return true
	}
	return false
}

// Booking outcomes.
const (
	OutcomeBooked       = "booked"
	OutcomeWaitlisted   = "waitlisted"
	OutcomeAlternatives = "alternatives"
)

// UnmetPreference is a preference a booking with on_unmet=any gave up.
type UnmetPreference struct {
	Passenger int    `json:"passenger" doc:"1-based; 0 for the whole party (together)"`
	Wanted    string `json:"wanted" doc:"lower, window, A, together, …"`
	Got       string `json:"got"`
	ZH        string `json:"message_zh"`
	EN        string `json:"message_en"`
}

// seatLetters resolves a seat preference to the letters it accepts in a
// class: "window", "aisle" or one letter; "" for none.
func seatLetters(class network.SeatClass, pref string) (string, error) {
	switch p := strings.ToLower(strings.TrimSpace(pref)); p {
	case "":
		return "", nil
	case "window":
		return seats.WindowLetters(class), nil
	case "aisle":
		return seats.AisleLetters(class), nil
	default:
		l := strings.ToUpper(p)
		if len(l) == 1 && strings.Contains(seats.WindowLetters(class)+seats.AisleLetters(class)+"BE", l) {
			return l, nil
		}
		return "", fmt.Errorf("unknown seat preference %q", pref)
	}
}

// hasPreference reports whether a booking carries a hard preference.
func (p *plan) hasPreference() bool {
	if p.together {
		return true
	}
	for _, r := range p.reqs {
		if r.Letters != "" || !r.AnyBerth && len(r.Kind.Class.Berths()) > 1 {
			return true
		}
	}
	return false
}

// relaxed is the plan's requests with the hard preferences dropped: any
// berth of the class, any seat letter; a wanted berth stays as a soft one.
func (p *plan) relaxed() []seats.Request {
	out := make([]seats.Request, len(p.reqs))
	for i, r := range p.reqs {
		if !r.AnyBerth && len(r.Kind.Class.Berths()) > 1 {
			r.Prefer = []network.Berth{r.Kind.Berth}
			r.AnyBerth = true
		}
		r.Letters = ""
		out[i] = r
	}
	return out
}

// allocate seats a plan's passengers as asked (together if asked).
func (p *plan) allocate(t *seats.Train) ([]seats.SeatID, error) {
	if p.together && len(p.reqs) > 1 {
		return t.AllocateTogether(p.reqs)
	}
	return t.Allocate(p.reqs)
}

// allocateWithPreferences seats a plan, handling unmet preferences as the
// plan says: with on_unmet=any it takes any seats and lists what it gave
// up; otherwise it refuses with preference_unmet when seats without the
// preferences exist, sold_out when none do.
func (p *plan) allocateWithPreferences(t *seats.Train) ([]seats.SeatID, []UnmetPreference, error) {
	ids, err := p.allocate(t)
	if err == nil {
		return ids, nil, nil
	}
	if !errors.Is(err, seats.ErrSoldOut) && !errors.Is(err, seats.ErrNotTogether) {
		return nil, nil, fault.Wrap(err, "allocate")
	}
	if !p.hasPreference() {
		return nil, nil, errSoldOut
	}
	if p.onUnmet != UnmetAny {
		// Would the seats be there without the preferences?
		if _, err := t.Clone().Allocate(p.relaxed()); err != nil {
			return nil, nil, errSoldOut
		}
		return nil, nil, errPreferenceUnmet
	}
	ids, err = t.Allocate(p.relaxed())
	if errors.Is(err, seats.ErrSoldOut) {
		return nil, nil, errSoldOut
	}
	if err != nil {
		return nil, nil, fault.Wrap(err, "allocate")
	}
	return ids, p.unmet(t, ids), nil
}

// unmet lists the hard preferences the seats ids do not meet.
func (p *plan) unmet(t *seats.Train, ids []seats.SeatID) []UnmetPreference {
	var out []UnmetPreference
	for i, id := range ids {
		r, seat := p.reqs[i], t.Seat(id)
		if !r.AnyBerth && seat.Kind.Berth != r.Kind.Berth {
			out = append(out, UnmetPreference{Passenger: i + 1, Wanted: string(r.Kind.Berth), Got: string(seat.Kind.Berth),
				ZH: fmt.Sprintf("第 %d 位乘客：%s已无票，已分配%s", i+1, berthZH(r.Kind.Berth), berthZH(seat.Kind.Berth)),
				EN: fmt.Sprintf("passenger %d: no %s berth left; given %s", i+1, r.Kind.Berth, seat.Kind.Berth)})
		}
		if r.Letters != "" && !strings.Contains(r.Letters, seat.Letter) {
			out = append(out, UnmetPreference{Passenger: i + 1, Wanted: p.seatPrefs[i], Got: seat.Letter,
				ZH: fmt.Sprintf("第 %d 位乘客：所选座位（%s）已无票，已分配 %s 座", i+1, p.seatPrefs[i], seat.Letter),
				EN: fmt.Sprintf("passenger %d: no %s seat left; given seat %s", i+1, p.seatPrefs[i], seat.Letter)})
		}
	}
	if p.together && len(ids) > 1 && !together(t, ids) {
		out = append(out, UnmetPreference{Wanted: "together", Got: "apart",
			ZH: "同行乘客无法安排在同一隔间或相邻座位，已分开安排", EN: "the party could not be seated together; seated apart"})
	}
	return out
}

// together reports whether seats share a car and lie in consecutive groups.
func together(t *seats.Train, ids []seats.SeatID) bool {
	car, lo, hi := t.Seat(ids[0]).Car, t.Seat(ids[0]).Group, t.Seat(ids[0]).Group
	for _, id := range ids[1:] {
		s := t.Seat(id)
		if s.Car != car || s.Group == 0 {
			return false
		}
		lo, hi = min(lo, s.Group), max(hi, s.Group)
	}
	return hi-lo < len(ids)
}

var errPreferenceUnmet = fault.New(fault.Conflict, "preference_unmet",
	"所选铺位或座位已无票。可改选接受任意席位（on_unmet=any）、候补（waitlist）或查看其他车次（alternatives）",
	"the berth or seat asked for is not available; ask again with on_unmet any (take any seat), waitlist (join the waitlist) or alternatives (see other trains)")

// softPreferences gives lower berths first to passengers of the policy's
// age, and to passengers who cancelled middle or upper berths of the train
// date before (proposal 1), when they ask for any berth.
func (s *Service) softPreferences(ctx context.Context, p *plan, policy Policy) error {
	for i := range p.reqs {
		r := &p.reqs[i]
		if !r.AnyBerth || len(r.Prefer) > 0 || !containsBerth(r.Kind.Class.Berths(), network.Lower) {
			continue
		}
		pass := p.passengers[i]
		if policy.ElderlyLower && pass.AgeOn(p.depart.In(p.si.loc)) >= policy.ElderlyAge {
			r.Prefer = []network.Berth{network.Lower}
			continue
		}
		if policy.RepeatBerthFirst {
			n, err := s.store.BerthCancels(ctx, string(pass.DocType), pass.DocNumber, p.key)
			if err != nil {
				return err
			}
			if n >= policy.RepeatBerthCancels {
				r.Prefer = []network.Berth{network.Lower}
			}
		}
	}
	return nil
}

// berthSeeker reports whether any passenger cancelled at least the
// policy's number of middle or upper berths on one of the trains: such an
// entry is served first (proposal 1).
func (s *Service) berthSeeker(ctx context.Context, ps []realname.Passenger, keys []TrainKey, policy Policy) (bool, error) {
	if !policy.RepeatBerthFirst {
		return false, nil
	}
	for _, k := range keys {
		for _, pass := range ps {
			n, err := s.store.BerthCancels(ctx, string(pass.DocType), pass.DocNumber, k)
			if err != nil || n >= policy.RepeatBerthCancels {
				return err == nil, err
			}
		}
	}
	return false, nil
}

// policyCache keeps the policy briefly, so bookings do not read the
// setting each time; a change reaches every process within its age.
type policyCache struct {
	mu     sync.Mutex
	policy Policy
	at     time.Time
}

// currentPolicy returns the policy in force, at most a second old.
func (s *Service) currentPolicy(ctx context.Context) (Policy, error) {
	c := &s.policy
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if !c.at.IsZero() && now.Sub(c.at) < time.Second {
		return c.policy, nil
	}
	p, err := s.Policy(ctx)
	if err != nil {
		return p, err
	}
	c.policy, c.at = p, now
	return p, nil
}
