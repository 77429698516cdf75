package benefits

import (
	"context"
	"fmt"
	"strings"
	"time"

	"piao/internal/audit"
	"piao/internal/fault"
	"piao/internal/tenant"
)

// errMerchantOnly refuses merchants' own operations to other callers.
var errMerchantOnly = fault.New(fault.Forbidden, "merchant_only", "仅商户账号可执行此操作", "only a merchant's users may do this")

// CreateTemplate validates and stores a template the operator offers
// merchants; it is active at once.
func (s *Service) CreateTemplate(ctx context.Context, t Template, actor string) (Template, error) {
	t.ID, t.Active, t.CreatedBy, t.CreatedAt = 0, true, actor, s.cfg.Now()
	if err := t.Validate(); err != nil {
		return Template{}, err
	}
	if err := s.store.CreateTemplate(ctx, &t); err != nil {
		return Template{}, err
	}
	if err := s.cfg.Audit.Record(ctx, "benefits.template.create", fmt.Sprintf("benefit_template:%d", t.ID), nil, t, ""); err != nil {
		return Template{}, err
	}
	return t, nil
}

// Templates lists templates newest first, only the active ones if asked
// (what merchants may choose from).
func (s *Service) Templates(ctx context.Context, activeOnly bool) ([]Template, error) {
	return s.store.Templates(ctx, activeOnly)
}

// Template returns one template.
func (s *Service) Template(ctx context.Context, id int64) (Template, error) {
	return s.store.Template(ctx, id)
}

// DeactivateTemplate stops offering a template: no new products are made
// from it; those made already are unaffected.
func (s *Service) DeactivateTemplate(ctx context.Context, id int64, actor string) (Template, error) {
	before, err := s.store.Template(ctx, id)
	if err != nil {
		return Template{}, err
	}
	t, err := s.store.DeactivateTemplate(ctx, id)
	if err != nil {
		return Template{}, err
	}
	if err := s.cfg.Audit.Record(ctx, "benefits.template.deactivate", fmt.Sprintf("benefit_template:%d", id), before, t, ""); err != nil {
		return Template{}, err
	}
	return t, nil
}

// CreateMerchantProduct stores a product of the scope's merchant made
// from an active template: its kind from the template, its terms within
// the template's bounds, its price the template's.
func (s *Service) CreateMerchantProduct(ctx context.Context, scope tenant.Scope, templateID int64, p Product, actor string) (Product, error) {
	if scope.Owner() == "" {
		return Product{}, errMerchantOnly
	}
	t, err := s.store.Template(ctx, templateID)
	if err != nil {
		return Product{}, err
	}
	if p.Kind == "" {
		p.Kind = t.Kind
	}
	if err := t.Admits(p); err != nil {
		return Product{}, err
	}
	p.TemplateID, p.UnitPrice = t.ID, t.UnitPrice
	return s.CreateProduct(ctx, scope, p, "", actor)
}

// UnitPrice is the fen a merchant prepays per ticket of a campaign the
// scope sees: its template's unit price, times the rides of a multi-ride
// or paper ticket. 0 means value-priced: purchases buy a value budget,
// not tickets at a price (and for campaigns not made from a template).
func (s *Service) UnitPrice(ctx context.Context, scope tenant.Scope, campaignID int64) (int64, error) {
	c, err := s.store.Campaign(ctx, scope, campaignID)
	if err != nil {
		return 0, err
	}
	p, err := s.store.Product(ctx, scope, c.ProductID)
	if err != nil {
		return 0, err
	}
	return p.TicketPrice(), nil
}

// maxFundingKey bounds idempotency keys of funding changes.
const maxFundingKey = 200

func checkFundingKey(key string) error {
	if strings.TrimSpace(key) == "" || len(key) > maxFundingKey {
		return fault.New(fault.Invalid, "bad_key", "幂等键应为 1 至 200 字节", "the idempotency key must be 1 to 200 bytes")
	}
	return nil
}

var errNotPrepaid = fault.New(fault.Conflict, "campaign_not_prepaid", "该活动不是预付活动", "the campaign is not prepaid")

// AddStock adds tickets to the Stock and value (fen) to the BudgetValue
// of a prepaid campaign the scope sees, for a paid purchase or top-up:
// exactly once per key (a repeat changes nothing and returns the campaign
// as it stands). The key is stored in the transaction that changes the
// campaign, with a "top_up" event; an audit entry follows. A campaign that
// is over (ended or terminated) takes no more. value is what the purchase
// lets the campaign's rides save; for a unit-priced campaign normally
// tickets × UnitPrice.
func (s *Service) AddStock(ctx context.Context, scope tenant.Scope, campaignID int64, key string, tickets int, value int64) (Campaign, error) {
	if err := checkFundingKey(key); err != nil {
		return Campaign{}, err
	}
	if tickets < 0 || value < 0 || tickets == 0 && value == 0 || tickets > 10_000_000 || value > 1_000_000_000_00 {
		return Campaign{}, fault.New(fault.Invalid, "bad_top_up", "充值应增加票数或金额，且不能为负", "a top-up adds tickets or value, never a negative amount")
	}
	now := s.cfg.Now()
	var before Campaign
	f, err := s.store.FundCampaign(ctx, scope, campaignID, key, func(c *Campaign) (Event, int64, error) {
		before = *c
		if !c.Prepaid {
			return Event{}, 0, errNotPrepaid
		}
		if c.Over(now) {
			return Event{}, 0, fault.New(fault.Conflict, "campaign_over", "活动已结束", "the campaign is over")
		}
		if c.Stock+tickets > 10_000_000 {
			return Event{}, 0, fault.New(fault.LimitReached, "stock_limit", "库存最多 10000000 张", "a campaign holds at most 10,000,000 tickets")
		}
		c.Stock += tickets
		c.BudgetValue += value
		c.UpdatedAt = now
		reason := fmt.Sprintf("+%d tickets, +%d fen", tickets, value)
		return Event{At: now, By: actorOf(ctx, key), Action: "top_up", From: c.Status, To: c.Status, Reason: reason}, value, nil
	})
	if err != nil {
		return Campaign{}, err
	}
	if !f.Again {
		s.soldOut.Delete(campaignID)
		after := map[string]any{"key": key, "tickets": tickets, "value": value, "stock": f.Campaign.Stock, "budget_value": f.Campaign.BudgetValue}
		if err := s.cfg.Audit.Record(ctx, "benefits.campaign.top_up", campaignSubject(campaignID), map[string]any{"stock": before.Stock, "budget_value": before.BudgetValue}, after, ""); err != nil {
			return Campaign{}, err
		}
	}
	return f.Campaign, nil
}

// CloseBudget closes the budget of a prepaid campaign the scope sees once
// it is over (ended or terminated): BudgetValue becomes what was spent, so
// nothing more is charged to it (tickets still held pay no more rides),
// and the value left unused is returned, for a refund by rule. Exactly
// once per key: a repeat returns the same unused figure.
func (s *Service) CloseBudget(ctx context.Context, scope tenant.Scope, campaignID int64, key string) (unused int64, c Campaign, err error) {
	if err := checkFundingKey(key); err != nil {
		return 0, Campaign{}, err
	}
	now := s.cfg.Now()
	var before Campaign
	f, err := s.store.FundCampaign(ctx, scope, campaignID, key, func(c *Campaign) (Event, int64, error) {
		before = *c
		if !c.Prepaid {
			return Event{}, 0, errNotPrepaid
		}
		if !c.Over(now) {
			return Event{}, 0, fault.New(fault.Conflict, "campaign_not_over", "活动尚未结束", "the campaign is not over yet")
		}
		unused := max(c.BudgetValue-c.Spent, 0)
		c.BudgetValue, c.UpdatedAt = c.Spent, now
		return Event{At: now, By: actorOf(ctx, key), Action: "close_budget", From: c.Status, To: c.Status, Reason: fmt.Sprintf("%d fen unused", unused)}, unused, nil
	})
	if err != nil {
		return 0, Campaign{}, err
	}
	if !f.Again {
		after := map[string]any{"key": key, "unused": f.Value, "budget_value": f.Campaign.BudgetValue}
		if err := s.cfg.Audit.Record(ctx, "benefits.campaign.close_budget", campaignSubject(campaignID), map[string]any{"budget_value": before.BudgetValue, "spent": before.Spent}, after, ""); err != nil {
			return 0, Campaign{}, err
		}
	}
	return f.Value, f.Campaign, nil
}

// actorOf names who changed a campaign's funding in its events: the
// caller the audit log knows, or the key that paid for it.
func actorOf(ctx context.Context, key string) string {
	if a := audit.ActorFrom(ctx); a.AccountID != 0 {
		return fmt.Sprintf("account:%d", a.AccountID)
	}
	return "funding:" + key
}

// SetCover stores a product's brand image, already checked by
// upload.Covers, for a product the scope sees.
//
// A product whose campaign is submitted or approved keeps its cover: the
// operator reviewed the campaign with it, and a cover changed afterwards
// would reach passengers unreviewed (a campaign back in draft or rejected
// may change it and is reviewed again).
func (s *Service) SetCover(ctx context.Context, scope tenant.Scope, img CoverImage, actor string) (CoverImage, error) {
	reviewed, err := s.store.Campaigns(ctx, scope, CampaignFilter{Statuses: []Status{Submitted, Approved, Active, Paused}, Limit: 1000})
	if err != nil {
		return CoverImage{}, err
	}
	for _, c := range reviewed {
		if c.ProductID == img.ProductID {
			return CoverImage{}, fault.Newf(fault.Conflict, "cover_reviewed", "活动 %d 已提交或已审核，其封面不能再更换", "campaign %d was submitted or approved with this cover; it can no longer change", c.ID)
		}
	}
	img.UpdatedBy, img.UpdatedAt, img.Size = actor, s.cfg.Now(), len(img.Data)
	if err := s.store.SetCover(ctx, scope, img); err != nil {
		return CoverImage{}, err
	}
	if err := s.cfg.Audit.Record(ctx, "benefits.product.cover", fmt.Sprintf("benefit_product:%d", img.ProductID), nil, img, ""); err != nil {
		return CoverImage{}, err
	}
	return img, nil
}

// Cover returns a product's brand image, for anyone.
func (s *Service) Cover(ctx context.Context, productID int64) (CoverImage, error) {
	return s.store.Cover(ctx, productID)
}

// Charges lists, per merchant-owned campaign the scope sees, what its
// tickets saved riders in [from, to): the merchant's charge.
func (s *Service) Charges(ctx context.Context, scope tenant.Scope, from, to time.Time) ([]Charge, error) {
	if !to.After(from) || to.Sub(from) > 366*24*time.Hour {
		return nil, fault.New(fault.Invalid, "bad_period", "时段须结束晚于开始，且不超过一年", "the period must end after it starts and span at most a year")
	}
	return s.store.Charges(ctx, scope, from, to)
}
