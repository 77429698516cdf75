// Package purchasetest holds an in-memory stand-in for the campaigns
// purchases buy stock for, faithful to the purchase.Campaigns contract:
// scoped reads, unit prices, stock added and budgets closed exactly once
// per key, refusal once a campaign is over. Tests of purchases and of
// their HTTP routes use it until they run against the benefits service.
package purchasetest

import (
	"context"
	"sync"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/purchase"
	"piao/internal/tenant"
)

// Campaigns is an in-memory purchase.Campaigns. It is safe for concurrent use.
type Campaigns struct {
	Now func() time.Time

	mu      sync.Mutex
	camps   map[int64]benefits.Campaign
	prices  map[int64]int64
	added   map[string]int64 // key → campaign, for stock added
	closed  map[string]int64 // key → unused answered
	events  map[int64][]benefits.Event
	AddHits map[string]int // key → calls that changed stock (at most 1 each)
}

var _ purchase.Campaigns = (*Campaigns)(nil)

// NewCampaigns returns an empty set of campaigns on the clock now.
func NewCampaigns(now func() time.Time) *Campaigns {
	return &Campaigns{Now: now, camps: map[int64]benefits.Campaign{}, prices: map[int64]int64{},
		added: map[string]int64{}, closed: map[string]int64{}, events: map[int64][]benefits.Event{}, AddHits: map[string]int{}}
}

var errNotFound = fault.New(fault.NotFound, "campaign_not_found", "没有这个活动", "there is no such campaign")

// Put adds or replaces a campaign and its unit price (0: prepaid by value).
func (cs *Campaigns) Put(c benefits.Campaign, unitPrice int64) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.camps[c.ID] = c
	cs.prices[c.ID] = unitPrice
}

// Terminate terminates a campaign at at, as the operator does: its status,
// its UpdatedAt and its terminate event.
func (cs *Campaigns) Terminate(id int64, at time.Time) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.camps[id]
	from := c.Status
	c.Status, c.UpdatedAt = benefits.Terminated, at
	cs.camps[id] = c
	cs.events[id] = append(cs.events[id], benefits.Event{CampaignID: id, At: at, By: "operator", Action: string(benefits.Terminate), From: from, To: benefits.Terminated, Reason: "terminated"})
}

// Events returns a campaign's events (its terminations), oldest first.
func (cs *Campaigns) Events(_ context.Context, scope tenant.Scope, id int64) ([]benefits.Event, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if _, err := cs.seen(scope, id); err != nil {
		return nil, err
	}
	return append([]benefits.Event(nil), cs.events[id]...), nil
}

// Spend charges value fen to a campaign's budget, as settlement does.
func (cs *Campaigns) Spend(id int64, fen int64) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.camps[id]
	c.Spent += fen
	cs.camps[id] = c
}

// Get returns a campaign whatever the scope, for assertions.
func (cs *Campaigns) Get(id int64) benefits.Campaign {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.camps[id]
}

func (cs *Campaigns) seen(scope tenant.Scope, id int64) (benefits.Campaign, error) {
	c, ok := cs.camps[id]
	if !ok || !scope.SeesOwner(c.Owner) {
		return benefits.Campaign{}, errNotFound
	}
	return c, nil
}

// Campaign returns a campaign the scope sees.
func (cs *Campaigns) Campaign(_ context.Context, scope tenant.Scope, id int64) (benefits.Campaign, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.seen(scope, id)
}

// UnitPrice is a campaign's price per ticket.
func (cs *Campaigns) UnitPrice(_ context.Context, scope tenant.Scope, id int64) (int64, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if _, err := cs.seen(scope, id); err != nil {
		return 0, err
	}
	return cs.prices[id], nil
}

// AddStock adds tickets and value once per key; refused once the campaign is over.
func (cs *Campaigns) AddStock(_ context.Context, scope tenant.Scope, id int64, key string, tickets int, value int64) (benefits.Campaign, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, err := cs.seen(scope, id)
	if err != nil {
		return c, err
	}
	if _, done := cs.added[key]; done {
		return c, nil
	}
	if c.Over(cs.Now()) {
		return c, fault.New(fault.Conflict, "campaign_over", "活动已结束", "the campaign is over")
	}
	c.Stock += tickets
	c.BudgetValue += value
	cs.camps[id] = c
	cs.added[key] = id
	cs.AddHits[key]++
	return c, nil
}

// CloseBudget caps an over campaign's budget at what it spent, once per
// key; a repeat answers the first figure.
func (cs *Campaigns) CloseBudget(_ context.Context, scope tenant.Scope, id int64, key string) (int64, benefits.Campaign, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, err := cs.seen(scope, id)
	if err != nil {
		return 0, c, err
	}
	if unused, done := cs.closed[key]; done {
		return unused, c, nil
	}
	if !c.Over(cs.Now()) {
		return 0, c, fault.New(fault.Conflict, "campaign_not_over", "活动尚未结束", "the campaign is not over")
	}
	unused := max(c.BudgetValue-c.Spent, 0)
	c.BudgetValue, c.UpdatedAt = c.Spent, cs.Now() // as benefits does: closing is a change
	cs.camps[id] = c
	cs.closed[key] = unused
	return unused, c, nil
}
