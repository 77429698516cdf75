package ridemore

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/metro"
	"piao/internal/network"
)

// CountRule is Ningbo's ride-count rule: rides per calendar month on two
// counters split at EveningFrom, each with its own tiers of reward tickets.
type CountRule struct {
	// EveningFrom is the minute after local midnight from which an entry
	// counts on the evening counter (1200 = 20:00, inclusive); 0 means
	// one counter for the whole day and no evening tiers.
	EveningFrom int `json:"evening_from"`
	// Day and Evening are the tiers of each counter, ascending MinRides;
	// a counter earns the one highest tier it reaches.
	Day     []Tier `json:"day"`
	Evening []Tier `json:"evening,omitempty"`
	// FoldEvening adds the evening rides to the day counter when they
	// reach no evening tier (Ningbo: fewer than 10 after 20:00).
	FoldEvening bool `json:"fold_evening,omitempty"`
	// IssueDays is K: rewards are issued on days 1 to K of the next month.
	IssueDays int `json:"issue_days"`
	// ValidDays is how long a reward is valid, the day of issue being day 1.
	ValidDays int `json:"valid_days"`
	// CountFree counts rides that cost the rider nothing (net 0); by
	// default they are not counted, as Ningbo excludes free-ride campaigns.
	CountFree bool `json:"count_free,omitempty"`
}

// Tier is one step of a counter: at least MinRides rides earn Tickets
// tickets of product ProductID.
type Tier struct {
	MinRides  int   `json:"min_rides"`
	ProductID int64 `json:"product_id"`
	Tickets   int   `json:"tickets"`
}

// Counter names one of a count rule's two counters.
type Counter string

// The counters.
const (
	DayCounter     Counter = "day"     // 20:00 前 (before EveningFrom)
	EveningCounter Counter = "evening" // 20:00 后 (from EveningFrom)
)

// Validate checks the count settings.
func (c CountRule) Validate() error {
	if c.EveningFrom < 0 || c.EveningFrom >= 1440 {
		return invalid("bad_evening_from", "晚间分段时刻应在 00:01 至 23:59 之间（0 表示不分段）", "evening_from must be a minute from 00:01 to 23:59 (0: no split)")
	}
	if c.EveningFrom == 0 && (len(c.Evening) > 0 || c.FoldEvening) {
		return invalid("evening_without_split", "未设置晚间分段时刻，不能设置晚间档位", "evening tiers need evening_from")
	}
	if c.EveningFrom > 0 && len(c.Evening) == 0 {
		return invalid("evening_tiers_required", "设置了晚间分段，请填写晚间档位", "a split at evening_from needs evening tiers")
	}
	if len(c.Day) == 0 {
		return invalid("tiers_required", "请至少设置一个档位", "a count rule needs at least one tier")
	}
	for _, tiers := range [][]Tier{c.Day, c.Evening} {
		if err := validTiers(tiers); err != nil {
			return err
		}
	}
	if c.IssueDays < 1 || c.IssueDays > 28 {
		return invalid("bad_issue_days", "发放期应为次月前 1 至 28 天", "the issuance window must be the first 1 to 28 days of the next month")
	}
	if c.ValidDays < 1 || c.ValidDays > 3660 {
		return invalid("bad_valid_days", "奖励有效天数应在 1 至 3660 之间", "reward validity must be 1 to 3,660 days")
	}
	return nil
}

func validTiers(ts []Tier) error {
	if len(ts) > 20 {
		return invalid("too_many_tiers", "每个计数最多 20 个档位", "at most 20 tiers per counter")
	}
	for i, t := range ts {
		switch {
		case t.MinRides < 1 || t.MinRides > 10000:
			return invalid("bad_min_rides", "档位次数应在 1 至 10000 之间", "a tier's rides must be 1 to 10,000")
		case i > 0 && t.MinRides <= ts[i-1].MinRides:
			return invalid("tiers_not_ascending", "档位次数须严格递增", "tiers must have strictly ascending rides")
		case t.ProductID <= 0:
			return invalid("bad_reward_product", "请为每个档位选择奖励产品", "each tier needs a reward product")
		case t.Tickets < 1 || t.Tickets > 1000:
			return invalid("bad_reward_tickets", "奖励张数应在 1 至 1000 之间", "a tier rewards 1 to 1,000 tickets")
		}
	}
	return nil
}

// CountedRide is one settled trip as the count rule sees it.
type CountedRide struct {
	TripID  string `json:"trip_id"` // rides with the same non-empty ID count once
	Account int64  `json:"account"`
	// Platform is the ride-code platform that charged the ride (Ningbo
	// counts each platform separately, "一码一赠"); "" is one platform.
	Platform  string    `json:"platform,omitempty"`
	EnteredAt time.Time `json:"entered_at"`
	// Complete is a tap-in and a tap-out at another station (metro
	// complete or overtime trips); only complete trips count.
	Complete bool  `json:"complete"`
	Fare     int64 `json:"fare"` // fen, before benefits
	Net      int64 `json:"net"`  // fen the rider paid after benefits
	// PaidWithGift is set when settlement applied a ticket the rider was
	// given: a reward ticket (赠票) or one received by 转赠. Not counted.
	PaidWithGift bool `json:"paid_with_gift,omitempty"`
}

// FromTrip makes the counted ride of settled trip t, which paid net and
// was (or not) paid with a gift ticket, charged on platform.
func FromTrip(t metro.Trip, net int64, paidWithGift bool, platform string) CountedRide {
	return CountedRide{
		TripID: t.ID, Account: t.Account, Platform: platform, EnteredAt: t.Entered,
		Complete: t.Status == metro.Complete || t.Status == metro.Overtime,
		Fare:     t.Fare, Net: net, PaidWithGift: paidWithGift,
	}
}

// Counts reports whether ride r counts towards the rule at all (its month
// aside): a complete trip of an account with an entry time, not paid with
// a gift ticket, and costing the rider something unless CountFree.
func (c CountRule) Counts(r CountedRide) bool {
	return r.Account > 0 && r.Complete && !r.EnteredAt.IsZero() && !r.PaidWithGift && (r.Net > 0 || c.CountFree)
}

// CounterAt returns the counter an entry at t is on, reading t in
// Asia/Shanghai: evening from EveningFrom (inclusive) to midnight.
func (c CountRule) CounterAt(t time.Time) Counter {
	if c.EveningFrom == 0 {
		return DayCounter
	}
	l := t.In(benefits.Shanghai)
	if l.Hour()*60+l.Minute() >= c.EveningFrom {
		return EveningCounter
	}
	return DayCounter
}

// Tally is one account's counts on one platform for one month, after the
// evening rides are folded into the day counter when the rule says so.
type Tally struct {
	Account  int64  `json:"account"`
	Platform string `json:"platform,omitempty"`
	Day      int    `json:"day"`
	Evening  int    `json:"evening"`
	// Folded is how many evening rides were added to Day.
	Folded int `json:"folded,omitempty"`
}

type tallyKey struct {
	account  int64
	platform string
}

// Tallies counts the rides of month, one tally per account and platform
// with a counted ride, ordered by account then platform. It does not
// validate the rule.
func (c CountRule) Tallies(month Month, rides []CountedRide) []Tally {
	seen := make(map[string]struct{})
	idx := make(map[tallyKey]int)
	var out []Tally
	for _, r := range rides {
		if !c.Counts(r) || !month.Contains(r.EnteredAt) {
			continue
		}
		if r.TripID != "" {
			if _, dup := seen[r.TripID]; dup {
				continue
			}
			seen[r.TripID] = struct{}{}
		}
		k := tallyKey{r.Account, r.Platform}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Tally{Account: r.Account, Platform: r.Platform})
		}
		if c.CounterAt(r.EnteredAt) == EveningCounter {
			out[i].Evening++
		} else {
			out[i].Day++
		}
	}
	for i := range out {
		if c.FoldEvening && tierFor(c.Evening, out[i].Evening) < 0 {
			out[i].Folded = out[i].Evening
			out[i].Day += out[i].Evening
			out[i].Evening = 0
		}
	}
	slices.SortFunc(out, func(a, b Tally) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Platform, b.Platform))
	})
	return out
}

// tierFor returns the index of the highest tier n rides reach, or -1.
func tierFor(ts []Tier, n int) int {
	for i := len(ts) - 1; i >= 0; i-- {
		if n >= ts[i].MinRides {
			return i
		}
	}
	return -1
}

// Reward is the tickets one counter of one account earned in a month.
type Reward struct {
	// Key is the idempotency key of the issue: rule, month, account,
	// platform and counter. The tier is not in it, so a run repeated after
	// late trips raised the count issues nothing twice for one counter.
	Key        string  `json:"key"`
	RuleID     string  `json:"rule_id"`
	CampaignID int64   `json:"campaign_id,omitempty"`
	Month      Month   `json:"month"`
	Account    int64   `json:"account"`
	Platform   string  `json:"platform,omitempty"`
	Counter    Counter `json:"counter"`
	Rides      int     `json:"rides"`     // rides counted on the counter
	Tier       int     `json:"tier"`      // 1 for the counter's lowest tier
	MinRides   int     `json:"min_rides"` // the tier's threshold
	ProductID  int64   `json:"product_id"`
	Tickets    int     `json:"tickets"`
	// ValidFrom is the day of issue; ValidUntil the last valid day,
	// inclusive to its end, Asia/Shanghai.
	ValidFrom  network.Date `json:"valid_from"`
	ValidUntil network.Date `json:"valid_until"`
}

// Window returns when the reward's tickets are usable: from midnight of
// ValidFrom to midnight after ValidUntil, Asia/Shanghai.
func (r Reward) Window() benefits.Window {
	return benefits.Window{From: r.ValidFrom.In(benefits.Shanghai), Until: r.ValidUntil.AddDays(1).In(benefits.Shanghai)}
}

// Key returns the idempotency key of the reward of rule for month,
// account, platform and counter.
func Key(ruleID string, month Month, account int64, platform string, counter Counter) string {
	k := "ridemore:" + ruleID + ":" + month.String() + ":" + strconv.FormatInt(account, 10) + ":" + string(counter)
	if platform != "" {
		k += ":" + url.QueryEscape(platform)
	}
	return k
}

// IssueWindow returns the first and last day on which rewards for month
// may be issued: days 1 to IssueDays of the next month.
func (c CountRule) IssueWindow(month Month) (first, last network.Date) {
	first = month.Next().FirstDay()
	return first, first.AddDays(c.IssueDays - 1)
}

// Monthly returns the rewards rule earns for the rides of month, issued on
// issueOn, ordered by account, platform, then day before evening. Rides of
// other months and rides that do not count are ignored; the answer does
// not depend on the order of rides. It fails if the rule is not a valid
// count rule or issueOn is outside the issuance window.
func Monthly(rule Rule, month Month, rides []CountedRide, issueOn network.Date) ([]Reward, error) {
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	if rule.Kind != CountKind {
		return nil, invalid("not_a_count_rule", "该规则不是按次数累计的规则", "this rule does not count rides")
	}
	if month.IsZero() {
		return nil, invalid("month_required", "请指定月份", "a month is needed")
	}
	c := *rule.Count
	first, last := c.IssueWindow(month)
	if issueOn.Before(first) {
		return nil, fault.Newf(fault.Conflict, "issue_too_early", "%s 的奖励须在 %s 之后发放", "rewards for %s are issued from %s", month, first)
	}
	if issueOn.After(last) {
		return nil, fault.Newf(fault.Conflict, "issue_window_closed", "%s 的奖励发放期已于 %s 结束", "the issuance window for %s closed on %s", month, last)
	}
	var out []Reward
	for _, t := range c.Tallies(month, rides) {
		for _, ctr := range []struct {
			name  Counter
			n     int
			tiers []Tier
		}{{DayCounter, t.Day, c.Day}, {EveningCounter, t.Evening, c.Evening}} {
			i := tierFor(ctr.tiers, ctr.n)
			if i < 0 {
				continue
			}
			tier := ctr.tiers[i]
			out = append(out, Reward{
				Key:    Key(rule.ID, month, t.Account, t.Platform, ctr.name),
				RuleID: rule.ID, CampaignID: rule.CampaignID, Month: month,
				Account: t.Account, Platform: t.Platform, Counter: ctr.name,
				Rides: ctr.n, Tier: i + 1, MinRides: tier.MinRides,
				ProductID: tier.ProductID, Tickets: tier.Tickets,
				ValidFrom: issueOn, ValidUntil: issueOn.AddDays(c.ValidDays - 1),
			})
		}
	}
	return out, nil
}
