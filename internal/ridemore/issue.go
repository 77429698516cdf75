package ridemore

import (
	"context"
	"strconv"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/metro"
	"piao/internal/network"
	"piao/internal/tenant"
)

// RideSource is where the monthly job reads settled trips: the metro
// service (or its store).
type RideSource interface {
	SettledRides(ctx context.Context, feed string, afterAccount int64, from, until time.Time, limit int) ([]metro.SettledRide, error)
}

// TicketIssuer is where the monthly job issues reward tickets: the
// benefits service (or its store).
type TicketIssuer interface {
	Campaign(ctx context.Context, scope tenant.Scope, id int64) (benefits.Campaign, error)
	Product(ctx context.Context, scope tenant.Scope, id int64) (benefits.Product, error)
	Issue(ctx context.Context, now time.Time, reqs []benefits.IssueRequest) ([]benefits.IssueResult, error)
}

// IssueOptions say which month of which network a run rewards.
type IssueOptions struct {
	Feed  string
	Month Month
	// Page is about how many settled trips are read at a time (default
	// 50,000); an account's trips are never split across pages.
	Page int
	// Progress, if set, is told how many accounts are counted so far.
	Progress func(accounts int)
}

// IssueReport says what a run did. Running it again issues nothing new:
// every ticket it would issue is counted in Again.
type IssueReport struct {
	RuleID   string       `json:"rule_id"`
	Month    Month        `json:"month"`
	IssuedOn network.Date `json:"issued_on"`
	Rides    int          `json:"rides"`    // settled trips read
	Accounts int          `json:"accounts"` // accounts with a trip in the month
	Rewards  int          `json:"rewards"`  // rewards earned (a counter of an account reaching a tier)
	Tickets  int          `json:"tickets"`  // tickets the rewards come to
	Issued   int          `json:"issued"`   // of which issued by this run
	Again    int          `json:"again"`    // of which issued by an earlier run
	Refused  int          `json:"refused"`  // of which refused (the stock ran out, no such account)
	// Refusals are the first MaxRefusals refused tickets and why.
	Refusals []RefusedReward `json:"refusals,omitempty"`
}

// RefusedReward is a reward ticket the campaign refused.
type RefusedReward struct {
	Key     string `json:"key"`
	Account int64  `json:"account"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail"`
}

// MaxRefusals bounds how many refusals a report lists.
const MaxRefusals = 100

// issueChunk is how many tickets one Issue transaction takes.
const issueChunk = 1_000

// IssueMonthly counts the settled trips of a month under a ningbo_count
// rule and issues the rewards from the rule's campaign (SPEC M4), on a day
// of the rule's issuance window (now, Asia/Shanghai). Each ticket is
// issued under the key "<reward key>#<n>", so running it again, or two
// runs at once, issue every ticket once; a run after late trips raised a
// counter to a higher tier issues only the tickets the higher tier adds.
//
// The rule's campaign must issue directly (the direct channel) the tiers'
// product, valid for the rule's ValidDays days.
func IssueMonthly(ctx context.Context, rides RideSource, tickets TicketIssuer, rule Rule, o IssueOptions, now time.Time) (IssueReport, error) {
	rep := IssueReport{RuleID: rule.ID, Month: o.Month, IssuedOn: network.DateOf(now.In(benefits.Shanghai))}
	if err := rule.Validate(); err != nil {
		return rep, err
	}
	if rule.Kind != CountKind {
		return rep, invalid("not_a_count_rule", "该规则不是按次数累计的规则", "this rule does not count rides")
	}
	if o.Feed == "" {
		return rep, invalid("feed_required", "请指定线网", "a feed is needed")
	}
	if o.Month.IsZero() {
		return rep, invalid("month_required", "请指定月份", "a month is needed")
	}
	// Refuse a run outside the window before reading a single trip.
	if _, err := Monthly(rule, o.Month, nil, rep.IssuedOn); err != nil {
		return rep, err
	}
	if err := checkRewardCampaign(ctx, tickets, rule, now); err != nil {
		return rep, err
	}
	if o.Page <= 0 {
		o.Page = 50_000
	}
	from, until := o.Month.Window().From, o.Month.Window().Until
	var after int64
	counted := make([]CountedRide, 0, o.Page)
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		page, err := rides.SettledRides(ctx, o.Feed, after, from, until, o.Page)
		if err != nil {
			return rep, err
		}
		if len(page) == 0 {
			return rep, nil
		}
		after = page[len(page)-1].Trip.Account
		counted = counted[:0]
		prev := int64(0)
		for _, r := range page {
			counted = append(counted, FromTrip(r.Trip, r.Passenger, r.Gift, ""))
			if r.Trip.Account != prev {
				rep.Accounts++
				prev = r.Trip.Account
			}
		}
		rep.Rides += len(page)
		rewards, err := Monthly(rule, o.Month, counted, rep.IssuedOn)
		if err != nil {
			return rep, err
		}
		if err := issueRewards(ctx, tickets, rule, rewards, now, &rep); err != nil {
			return rep, err
		}
		if o.Progress != nil {
			o.Progress(rep.Accounts)
		}
	}
}

// checkRewardCampaign refuses a rule whose campaign cannot issue what the
// rule's tiers give.
func checkRewardCampaign(ctx context.Context, tickets TicketIssuer, rule Rule, now time.Time) error {
	if rule.CampaignID == 0 {
		return invalid("campaign_required", "规则须指定发放奖励的活动", "the rule needs the campaign its rewards are issued from")
	}
	c, err := tickets.Campaign(ctx, tenant.All(), rule.CampaignID)
	if err != nil {
		return err
	}
	if err := c.CheckIssue(now, benefits.DirectChannel, 0); err != nil {
		return err
	}
	p, err := tickets.Product(ctx, tenant.All(), c.ProductID)
	if err != nil {
		return err
	}
	for _, ts := range [][]Tier{rule.Count.Day, rule.Count.Evening} {
		for _, t := range ts {
			if t.ProductID != c.ProductID {
				return fault.Newf(fault.Invalid, "tier_product_mismatch", "档位的奖励票券（产品 %d）不是活动 %d 发放的产品", "a tier rewards product %d, which campaign %d does not issue", t.ProductID, c.ID)
			}
		}
	}
	if p.Valid.Days != rule.Count.ValidDays {
		return fault.Newf(fault.Invalid, "reward_validity_mismatch", "奖励票券有效期应为 %d 天，活动的产品为 %d 天", "rewards are valid %d days but the campaign's product is valid %d days", rule.Count.ValidDays, p.Valid.Days)
	}
	return nil
}

func issueRewards(ctx context.Context, tickets TicketIssuer, rule Rule, rewards []Reward, now time.Time, rep *IssueReport) error {
	reqs := make([]benefits.IssueRequest, 0, issueChunk)
	send := func() error {
		if len(reqs) == 0 {
			return nil
		}
		res, err := tickets.Issue(ctx, now, reqs)
		if err != nil {
			return err
		}
		for i, r := range res {
			switch {
			case r.Err != nil:
				rep.Refused++
				if len(rep.Refusals) < MaxRefusals {
					ref := RefusedReward{Key: reqs[i].Key, Account: reqs[i].Account, Reason: "refused", Detail: r.Err.Error()}
					if fe := fault.As(r.Err); fe != nil {
						ref.Reason, ref.Detail = fe.Reason, fe.EN
					}
					rep.Refusals = append(rep.Refusals, ref)
				}
			case r.Again:
				rep.Again++
			default:
				rep.Issued++
			}
		}
		reqs = reqs[:0]
		return nil
	}
	for _, rw := range rewards {
		rep.Rewards++
		rep.Tickets += rw.Tickets
		for n := 1; n <= rw.Tickets; n++ {
			reqs = append(reqs, benefits.IssueRequest{CampaignID: rule.CampaignID, Account: rw.Account, Channel: benefits.DirectChannel, Key: rw.Key + "#" + strconv.Itoa(n)})
			if len(reqs) == issueChunk {
				if err := send(); err != nil {
					return err
				}
			}
		}
	}
	return send()
}
