package employer

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/tenant"
)

// Rule returns the scope's allowance rule.
func (s *Service) Rule(ctx context.Context, scope tenant.Scope) (AllowanceRule, error) {
	m, err := s.employer(ctx, scope)
	if err != nil {
		return AllowanceRule{}, err
	}
	return s.store.Rule(ctx, scope, m.ID)
}

// AllowanceView is a rule with its campaign as it stands: its review status and
// what it has spent of its budget.
type AllowanceView struct {
	AllowanceRule AllowanceRule     `json:"rule"`
	Campaign      benefits.Campaign `json:"campaign"`
}

// RuleView returns the scope's rule with its campaign.
func (s *Service) RuleView(ctx context.Context, scope tenant.Scope) (AllowanceView, error) {
	r, err := s.Rule(ctx, scope)
	if err != nil {
		return AllowanceView{}, err
	}
	c, err := s.cfg.Benefits.Campaign(ctx, scope, r.CampaignID)
	if err != nil {
		return AllowanceView{}, err
	}
	return AllowanceView{AllowanceRule: r, Campaign: c}, nil
}

// CreateRule sets up the employer's allowance: the product and campaign
// that carry it (owned by the employer, so settlement charges it), the
// rule, the campaign's stock, and its submission for the operator's
// review. Issuing starts once the operator approves the campaign.
func (s *Service) CreateRule(ctx context.Context, scope tenant.Scope, r AllowanceRule, actor string) (AllowanceRule, error) {
	m, err := s.employer(ctx, scope)
	if err != nil {
		return AllowanceRule{}, err
	}
	if err := r.Check(); err != nil {
		return AllowanceRule{}, err
	}
	if _, err := s.store.Rule(ctx, scope, m.ID); err == nil {
		return AllowanceRule{}, ErrRuleExists
	} else if !fault.Is(err, fault.NotFound) {
		return AllowanceRule{}, err
	}
	p, err := s.cfg.Benefits.CreateProduct(ctx, scope, r.Product(m.LegalName), "", actor)
	if err != nil {
		return AllowanceRule{}, err
	}
	now := s.now()
	start := MonthOf(now).Start()
	c, err := s.cfg.Benefits.CreateCampaign(ctx, scope, benefits.Campaign{
		ProductID: p.ID, NameZH: p.NameZH, NameEN: p.NameEN, Starts: now, Ends: start.AddDate(CampaignYears, 0, 0),
		Channels: []benefits.Channel{benefits.DirectChannel},
	}, "", actor)
	if err != nil {
		return AllowanceRule{}, err
	}
	r.ID, r.Employer, r.ProductID, r.CampaignID, r.CreatedBy, r.CreatedAt, r.UpdatedAt = 0, m.ID, p.ID, c.ID, actor, now, now
	if err := s.store.CreateRule(ctx, scope, &r); err != nil {
		return AllowanceRule{}, err // a rule made meanwhile wins; this product and draft stay unused
	}
	if err := s.record(ctx, "employer.rule.create", RuleSubject(r.ID), nil, r, ""); err != nil {
		return AllowanceRule{}, err
	}
	if _, err := s.cfg.Benefits.AddStock(ctx, scope, c.ID, stockKey(r.ID), allowanceStock, 0); err != nil {
		return r, err
	}
	if _, err := s.cfg.Benefits.Act(ctx, scope, c.ID, benefits.Submit, actor, ""); err != nil {
		return r, err
	}
	return r, nil
}

// AllowanceChange is what may change of a rule once made: its rides and scope
// are what the operator reviewed, so they stay.
type AllowanceChange struct {
	Offboard         Offboarding `json:"offboarding,omitempty"`
	MonthlyCreditFen *int64      `json:"monthly_credit_fen,omitempty"`
}

// UpdateRule changes the offboarding policy or an invoiced employer's
// monthly credit (from the next month's issue).
func (s *Service) UpdateRule(ctx context.Context, scope tenant.Scope, ch AllowanceChange) (AllowanceRule, error) {
	before, err := s.Rule(ctx, scope)
	if err != nil {
		return AllowanceRule{}, err
	}
	r := before
	if ch.Offboard != "" {
		r.Offboard = ch.Offboard
	}
	if ch.MonthlyCreditFen != nil {
		r.MonthlyCreditFen = *ch.MonthlyCreditFen
	}
	if err := r.Check(); err != nil {
		return AllowanceRule{}, err
	}
	r.UpdatedAt = s.now()
	if err := s.store.UpdateRule(ctx, scope, r); err != nil {
		return AllowanceRule{}, err
	}
	if err := s.record(ctx, "employer.rule.update", RuleSubject(r.ID), before, r, ""); err != nil {
		return AllowanceRule{}, err
	}
	return r, nil
}

// AllowanceProgress is where a month's issue stands, reported after each batch.
type AllowanceProgress struct {
	Employer int64  `json:"employer_id"`
	Month    string `json:"month"`
	// Issued are tickets issued by this run, Again those a run before had
	// issued (the key found), Refused those the campaign refused (not yet
	// approved, paused, over).
	Issued  int `json:"issued"`
	Again   int `json:"again"`
	Refused int `json:"refused"`
	// Reason is why the last refusal was refused.
	Reason string `json:"reason,omitempty"`
}

// RunMonth issues month m's allowance to every active, linked employee of
// every employer with a rule (the operator's job), in batches, calling
// progress after each. Each employee gets one ticket per month whatever
// happens: the ticket's key (IssueKey) is unique, so a second run, a
// concurrent one or one after a crash finds what was issued and issues the
// rest.
func (s *Service) RunMonth(ctx context.Context, m Month, progress func(AllowanceProgress)) ([]AllowanceProgress, error) {
	rules, err := s.store.Rules(ctx, tenant.All())
	if err != nil {
		return nil, err
	}
	var out []AllowanceProgress
	for _, r := range rules {
		p, err := s.runRule(ctx, r, m, progress)
		out = append(out, p)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// RunNow issues the current month's allowance of the scope's employer
// (the console's "run now"), exactly as the periodic job does.
func (s *Service) RunNow(ctx context.Context, scope tenant.Scope) (AllowanceProgress, error) {
	r, err := s.Rule(ctx, scope)
	if err != nil {
		return AllowanceProgress{}, err
	}
	p, err := s.runRule(ctx, r, MonthOf(s.now()), nil)
	if err != nil {
		return p, err
	}
	return p, s.record(ctx, "employer.allowance.run", RuleSubject(r.ID), nil, p, "")
}

// runRule issues one rule's month.
func (s *Service) runRule(ctx context.Context, r AllowanceRule, m Month, progress func(AllowanceProgress)) (AllowanceProgress, error) {
	p := AllowanceProgress{Employer: r.Employer, Month: m.String()}
	scope := tenant.Merchant(r.Employer)
	now := s.now()
	if !now.Before(m.End()) || now.Before(m.Start()) {
		return p, fault.Newf(fault.Invalid, "month_not_current", "只能发放当月（%s）的补贴", "only the current month (%s) can be issued", MonthOf(now))
	}
	if r.Paying == Invoiced {
		// The month's credit, once per month: what the allowance may spend.
		if _, err := s.cfg.Benefits.AddStock(ctx, scope, r.CampaignID, creditKey(r.ID, m), 0, r.MonthlyCreditFen); err != nil && !fault.Is(err, fault.Conflict) {
			return p, err
		}
	}
	today := network.DateOf(now.In(benefits.Shanghai))
	after := int64(0)
	for {
		if err := ctx.Err(); err != nil {
			return p, fault.Wrap(err, "allowance run stopped")
		}
		es, err := s.store.Employees(ctx, scope, r.Employer, Filter{Status: Active, AfterID: after, Limit: s.cfg.Batch})
		if err != nil {
			return p, err
		}
		if len(es) == 0 {
			return p, nil
		}
		after = es[len(es)-1].ID
		reqs := make([]benefits.IssueRequest, 0, len(es))
		for _, e := range es {
			if e.Account == 0 || !e.Joined.IsZero() && today.Before(e.Joined) {
				continue // not linked yet, or not started yet
			}
			reqs = append(reqs, benefits.IssueRequest{CampaignID: r.CampaignID, Account: e.Account, Channel: benefits.DirectChannel,
				Key: IssueKey(r.ID, e.ID, m), Until: m.End()})
		}
		if len(reqs) > 0 {
			res, err := s.cfg.Benefits.Issue(ctx, now, reqs)
			if err != nil {
				return p, err
			}
			for _, x := range res {
				switch {
				case x.Err != nil:
					p.Refused++
					p.Reason = fault.As(x.Err).Reason
				case x.Again:
					p.Again++
				default:
					p.Issued++
				}
			}
		}
		if progress != nil {
			progress(p)
		}
	}
}

// Run issues the current month's allowances, bills the month before and
// closes expired top-ups, every interval until ctx ends. Repeats are
// harmless: issues and bills are keyed per employee and month.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		m := MonthOf(s.now())
		if ps, err := s.RunMonth(ctx, m, nil); err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "allowance run", "month", m.String(), "err", err.Error())
		} else {
			for _, p := range ps {
				if p.Issued > 0 {
					slog.InfoContext(ctx, "allowance issued", "employer", p.Employer, "month", p.Month, "issued", p.Issued, "refused", p.Refused)
				}
			}
		}
		if _, err := s.IssueBills(ctx, m.Prev()); err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "employer bills", "month", m.Prev().String(), "err", err.Error())
		}
		if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "employer top-up sweep", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// String summarises a run's progress for logs and the CLI.
func (p AllowanceProgress) String() string {
	s := fmt.Sprintf("employer %d %s: %d issued, %d issued before, %d refused", p.Employer, p.Month, p.Issued, p.Again, p.Refused)
	if p.Reason != "" {
		s += " (" + p.Reason + ")"
	}
	return s
}
