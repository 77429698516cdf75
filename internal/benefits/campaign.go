package benefits

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"piao/internal/fault"
)

// Status is where a campaign is in its review and life (SPEC V2).
type Status string

// Campaign statuses. Approved becomes active when the campaign starts;
// approved, active and paused campaigns end when they finish.
const (
	Draft      Status = "draft"
	Submitted  Status = "submitted"
	Approved   Status = "approved"
	Rejected   Status = "rejected"
	Active     Status = "active"
	Paused     Status = "paused"
	Terminated Status = "terminated"
	Ended      Status = "ended"
)

// Channel is how a ticket reached its holder (SPEC V3).
type Channel string

// Distribution channels.
const (
	ClaimChannel  Channel = "claim"  // claimed in the H5 pages or the API
	CodeChannel   Channel = "code"   // a redemption code
	DirectChannel Channel = "direct" // issued by the campaign's owner to a list
	// AutoChannel issues no tickets: while the campaign runs, every ride
	// in its product's scope gets the benefit (free-ride days, subsidies
	// for rider categories; SPEC M5). It is a campaign's only channel.
	AutoChannel Channel = "auto"
	// PurchaseChannel issues the tickets passengers buy (SPEC B4): only
	// for a paid purchase of the campaign's offer (internal/sale).
	PurchaseChannel Channel = "purchase"
)

// Channels are the channels a campaign may open.
var Channels = []Channel{ClaimChannel, CodeChannel, DirectChannel, AutoChannel, PurchaseChannel}

// Automatic reports whether the campaign applies to rides without tickets.
func (c Campaign) Automatic() bool { return slices.Contains(c.Channels, AutoChannel) }

// AutoBenefit is the benefit an automatic campaign of product p gives
// every ride in scope during the campaign.
func AutoBenefit(c Campaign, p Product) Benefit {
	return Benefit{CampaignID: c.ID, Kind: p.Kind, Terms: p.Terms, Scope: p.Scope, Window: Window{From: c.Starts, Until: c.Ends}}
}

// Campaign distributes one product under a budget, with review.
type Campaign struct {
	ID        int64  `json:"id"`
	ProductID int64  `json:"product_id"`
	Owner     string `json:"owner"` // operator, merchant:ID or account:ID
	NameZH    string `json:"name_zh"`
	NameEN    string `json:"name_en"`
	// Status is the stored status; Effective gives the one in force now.
	Status Status `json:"status"`
	// Starts and Ends bound when tickets are issued: [Starts, Ends).
	Starts   time.Time `json:"starts"`
	Ends     time.Time `json:"ends"`
	Channels []Channel `json:"channels"`
	// Stock is how many tickets may be issued in all.
	Stock int `json:"stock"`
	// PerUser caps tickets one account gets from this campaign (0: no cap).
	PerUser int `json:"per_user,omitempty"`
	// BudgetUses caps the rides paid with its tickets, BudgetValue the
	// fen they save in all (0: no cap). A ride that would pass a budget
	// gets no benefit from the campaign.
	BudgetUses  int   `json:"budget_uses,omitempty"`
	BudgetValue int64 `json:"budget_value,omitempty"`
	// Prepaid campaigns are a merchant's (SPEC B2): their Stock and
	// BudgetValue start at 0 and only paid purchases add to them
	// (Service.AddStock), so they issue nothing beyond what was bought and
	// pay nothing beyond what was paid: BudgetValue 0 means nothing to
	// spend, not "no cap".
	Prepaid bool `json:"prepaid,omitempty"`
	// Counters kept by the store in the same transactions as the changes.
	Issued    int       `json:"issued"`
	Uses      int       `json:"uses"`
	Spent     int64     `json:"spent"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Event is one entry of a campaign's audit trail: who did what, and why.
type Event struct {
	ID         int64     `json:"id"`
	CampaignID int64     `json:"campaign_id"`
	At         time.Time `json:"at"`
	By         string    `json:"by"`
	Action     string    `json:"action"`
	From       Status    `json:"from,omitempty"`
	To         Status    `json:"to"`
	Reason     string    `json:"reason,omitempty"`
}

// Effective returns the status in force at now: an approved campaign is
// active once it starts, and a running one has ended once it finishes.
func (c Campaign) Effective(now time.Time) Status {
	switch c.Status {
	case Approved, Active, Paused:
		if !now.Before(c.Ends) {
			return Ended
		}
		if c.Status == Approved && !now.Before(c.Starts) {
			return Active
		}
	}
	return c.Status
}

// Over reports whether the campaign is over at now: ended or terminated,
// or never approved (draft, submitted, rejected) and past its end, when it
// can no longer run. An over prepaid campaign takes no more stock, and
// what its merchant paid and it did not spend can be refunded; without
// the last case money paid for a campaign never approved would be stuck.
func (c Campaign) Over(now time.Time) bool {
	switch c.Effective(now) {
	case Ended, Terminated:
		return true
	case Draft, Submitted, Rejected:
		return !now.Before(c.Ends)
	}
	return false
}

// Validate checks a campaign definition (not its status or counters).
func (c Campaign) Validate() error {
	bad := func(reason, zh, en string) error { return fault.New(fault.Invalid, reason, zh, en) }
	switch {
	case strings.TrimSpace(c.NameZH) == "" && strings.TrimSpace(c.NameEN) == "":
		return bad("campaign_name_required", "请填写活动名称", "a campaign needs a name")
	case utf8.RuneCountInString(c.NameZH) > 60 || utf8.RuneCountInString(c.NameEN) > 120:
		return bad("campaign_name_too_long", "活动名称过长", "the campaign name is too long")
	case c.Starts.IsZero() || c.Ends.IsZero() || !c.Ends.After(c.Starts):
		return bad("bad_campaign_window", "活动须有开始与结束时间，且结束晚于开始", "a campaign needs a start and an end after it")
	case c.Automatic() && len(c.Channels) > 1:
		return bad("auto_channel_alone", "自动优惠活动不能同时开放其他发放渠道", "an automatic campaign has no other channel")
	case c.Automatic() && c.Stock != 0:
		return bad("auto_no_stock", "自动优惠活动不发放票券，库存应为 0", "an automatic campaign issues no tickets: its stock is 0")
	case c.Prepaid && c.Automatic():
		return bad("prepaid_not_automatic", "预付活动须发放票券，不能为自动优惠", "a prepaid campaign issues tickets; it cannot be automatic")
	case c.Prepaid && (c.Stock < 0 || c.Stock > 10_000_000):
		// A prepaid draft may have no stock yet: purchases add it.
		return bad("bad_stock", "库存应在 0 至 10000000 之间", "stock must be 0 to 10,000,000")
	case !c.Automatic() && !c.Prepaid && (c.Stock < 1 || c.Stock > 10_000_000):
		return bad("bad_stock", "库存应在 1 至 10000000 之间", "stock must be 1 to 10,000,000")
	case c.Prepaid && slices.Contains(c.Channels, PurchaseChannel):
		return bad("prepaid_not_for_sale", "预付活动不能开放乘客购买渠道", "a prepaid campaign cannot sell tickets to passengers")
	case c.PerUser < 0 || c.BudgetUses < 0 || c.BudgetValue < 0:
		return bad("bad_limits", "限额不能为负", "limits cannot be negative")
	case len(c.Channels) == 0:
		return bad("channels_required", "请至少选择一种发放渠道", "choose at least one distribution channel")
	}
	for _, ch := range c.Channels {
		if !slices.Contains(Channels, ch) {
			return fault.Newf(fault.Invalid, "bad_channel", "未知的发放渠道 %q", "unknown channel %q", ch)
		}
	}
	return nil
}

// Action is a review or life-cycle step on a campaign.
type Action string

// Campaign actions.
const (
	Submit    Action = "submit"
	Approve   Action = "approve"
	Reject    Action = "reject"
	Pause     Action = "pause"
	Resume    Action = "resume"
	Terminate Action = "terminate"
)

// transitions says which effective statuses each action leaves from and
// the status it sets. Resuming goes back to approved, which is active
// while the campaign runs.
var transitions = map[Action]struct {
	from []Status
	to   Status
}{
	Submit:    {[]Status{Draft, Rejected}, Submitted},
	Approve:   {[]Status{Submitted}, Approved},
	Reject:    {[]Status{Submitted}, Rejected},
	Pause:     {[]Status{Active, Approved}, Paused},
	Resume:    {[]Status{Paused}, Approved},
	Terminate: {[]Status{Approved, Active, Paused}, Terminated},
}

// needsReason lists the actions that must say why.
var needsReason = []Action{Reject, Pause, Terminate}

// Apply performs an action on c at now by actor, returning the event to
// record. Rejecting, pausing and terminating need a reason; a reviewer
// never approves a campaign they created (four eyes).
func (c *Campaign) Apply(a Action, now time.Time, actor, reason string) (Event, error) {
	t, ok := transitions[a]
	if !ok {
		return Event{}, fault.Newf(fault.Invalid, "bad_action", "未知的操作 %q", "unknown action %q", a)
	}
	from := c.Effective(now)
	if !slices.Contains(t.from, from) {
		return Event{}, fault.Newf(fault.Conflict, "campaign_status", "活动当前状态为 %s，不能执行 %s", "the campaign is %s; it cannot %s", from, a)
	}
	reason = strings.TrimSpace(reason)
	if slices.Contains(needsReason, a) && reason == "" {
		return Event{}, fault.Newf(fault.Invalid, "reason_required", "%s 须说明原因", "%s needs a reason", a)
	}
	if utf8.RuneCountInString(reason) > 500 {
		return Event{}, fault.New(fault.Invalid, "reason_too_long", "原因最多 500 字", "the reason is at most 500 characters")
	}
	if a == Submit && c.Prepaid && c.Stock < 1 {
		return Event{}, fault.New(fault.Conflict, "no_stock", "预付活动须先购买库存才能提交", "a prepaid campaign needs stock bought before it is submitted")
	}
	if a == Approve && actor == c.CreatedBy {
		return Event{}, fault.New(fault.Forbidden, "own_campaign", "不能审批自己创建的活动", "you cannot approve a campaign you created")
	}
	c.Status, c.UpdatedAt = t.to, now
	return Event{CampaignID: c.ID, At: now, By: actor, Action: string(a), From: from, To: t.to, Reason: reason}, nil
}

// CheckIssue says whether one more ticket may go to an account already
// holding held tickets of the campaign, through ch, at now.
func (c Campaign) CheckIssue(now time.Time, ch Channel, held int) error {
	switch st := c.Effective(now); st {
	case Active:
	case Approved:
		return fault.New(fault.Conflict, "campaign_not_started", "活动尚未开始", "the campaign has not started")
	case Paused:
		return fault.New(fault.Conflict, "campaign_paused", "活动已暂停", "the campaign is paused")
	case Ended, Terminated:
		return fault.New(fault.Conflict, "campaign_over", "活动已结束", "the campaign is over")
	default:
		return fault.Newf(fault.Conflict, "campaign_not_open", "活动未开放（%s）", "the campaign is not open (%s)", st)
	}
	if !slices.Contains(c.Channels, ch) {
		return fault.Newf(fault.Conflict, "channel_closed", "该活动不支持 %s 方式发放", "the campaign does not issue by %s", ch)
	}
	if c.Issued >= c.Stock {
		return fault.New(fault.LimitReached, "sold_out", "已领完", "all tickets have been given out")
	}
	if c.PerUser > 0 && held >= c.PerUser {
		return fault.Newf(fault.LimitReached, "per_user_limit", "每人限领 %d 张", "at most %d per person", c.PerUser)
	}
	return nil
}

// CanSpend says whether the campaign's budgets admit one more ride saving
// saving fen. Terminated campaigns pay for nothing more; paused ones keep
// honouring tickets already held. A prepaid campaign pays nothing beyond
// its BudgetValue, 0 included.
func (c Campaign) CanSpend(saving int64) bool {
	if c.Status == Terminated {
		return false
	}
	if c.BudgetUses > 0 && c.Uses >= c.BudgetUses {
		return false
	}
	return c.BudgetValue == 0 && !c.Prepaid || c.Spent+saving <= c.BudgetValue
}

// OverBudget reports whether uses more rides saving spent fen in all take
// the campaign past a budget: CanSpend for a batch of uses.
func (c Campaign) OverBudget(uses int, spent int64) bool {
	return c.BudgetUses > 0 && c.Uses+uses > c.BudgetUses || (c.BudgetValue > 0 || c.Prepaid) && c.Spent+spent > c.BudgetValue
}
