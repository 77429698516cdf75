package subsidy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/network"
)

// ErrNotRunning is what the API and the console answer for subsidies in a
// process that does not run them.
var ErrNotRunning = fault.New(fault.Unavailable, "subsidy_unavailable", "乘车补贴服务未启动", "subsidies are not running in this process")

// GroupGrant is a rider category an account holds for [From, Until): what
// settlement looks at to give the scheme's automatic campaign to a trip.
type GroupGrant struct {
	Account int64
	Group   Group
	From    time.Time
	Until   time.Time
}

// CampaignSpec is what a new scheme's automatic campaign needs besides the
// scheme: the metro network, when the subsidy is funded, and an optional
// budget of fen.
type CampaignSpec struct {
	Feed        string    `json:"feed"`
	Starts      time.Time `json:"starts"`
	Ends        time.Time `json:"ends"`
	BudgetValue int64     `json:"budget_value,omitempty"`
}

// Config connects the service to the rest of piao.
type Config struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Grant gives accounts rider categories, each replacing the account's
	// earlier grant of the same category. Settlement reads them.
	Grant func(ctx context.Context, grants []GroupGrant) error
	// NewCampaign stores product p and the draft automatic campaign c of
	// it, both owned by c.Owner, submits the campaign for review and
	// returns its ID.
	NewCampaign func(ctx context.Context, p benefits.Product, c benefits.Campaign, actor string) (int64, error)
	// Audit records schemes created and the operators' decisions on
	// enrolments (nil: no trail).
	Audit *audit.Log
}

// Service runs subsidy schemes and enrolments over a Store: it applies
// the pure transitions of this package, stores them with an optimistic
// check, and keeps the enrolled accounts' rider categories in step.
type Service struct {
	store Store
	cfg   Config
}

// NewService returns a service over store.
func NewService(store Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: store, cfg: cfg}
}

// Now returns the service's clock reading.
func (svc *Service) Now() time.Time { return svc.cfg.Now() }

// Owner is the owner of scheme id's campaign: its savings are booked to
// the subsidy column of the ledger (metro.PayerOf).
func Owner(schemeID string) string { return "subsidy:" + schemeID }

// CampaignFor returns the product and automatic campaign that carry
// scheme s on a network: a percentage off (100 % when free) with the
// scheme's cap, exclusive unless combinable, scoped as the scheme is and
// to riders holding the scheme's group, for the spec's window.
func CampaignFor(s Scheme, spec CampaignSpec) (benefits.Product, benefits.Campaign) {
	t := benefits.Terms{PercentOff: 100, Exclusive: !s.Combinable}
	if s.Grant == Discount {
		t.PercentOff, t.Cap = s.PercentOff, s.Cap
	}
	scope := s.Scope
	scope.Riders = []string{string(s.Group)}
	zh, en := s.NameZH, s.NameEN
	owner := Owner(s.ID)
	p := benefits.Product{
		Kind: benefits.Percentage, NameZH: zh, NameEN: en, Owner: owner, Feed: spec.Feed, Terms: t, Scope: scope,
		// Automatic benefits last as long as their campaign; the product's
		// own validity is only what product validation asks for.
		Valid:          benefits.Validity{Until: network.DateOf(spec.Ends.In(benefits.Shanghai))},
		InstructionsZH: "已认证的" + groupZH(s.Group) + "乘车时自动享受，无需领取",
		InstructionsEN: "Applied to the rides of verified " + groupEN(s.Group) + " automatically; nothing to claim",
	}
	c := benefits.Campaign{
		Owner: owner, NameZH: zh, NameEN: en, Starts: spec.Starts, Ends: spec.Ends,
		Channels: []benefits.Channel{benefits.AutoChannel}, BudgetValue: spec.BudgetValue,
	}
	return p, c
}

func groupZH(g Group) string { zh, _ := g.Name(); return zh }
func groupEN(g Group) string { _, en := g.Name(); return en }

// CreateScheme defines scheme s with a new automatic campaign from spec,
// submitted for review: the subsidy reaches rides once a reviewer
// approves the campaign. s.CampaignID is set by it. A group has one
// scheme, since the rider category it grants is the group.
func (svc *Service) CreateScheme(ctx context.Context, s Scheme, spec CampaignSpec, actor string) (Scheme, error) {
	switch {
	case s.RidesPerMonth != 0:
		return Scheme{}, invalid("rides_per_month_unsupported", "结算暂不支持每月补贴次数上限，请设为 0", "settlement does not cap subsidised rides per month yet; set it to 0")
	case len(s.Group) > 32:
		return Scheme{}, invalid("bad_group", "人群类别最多 32 个字符", "a group is at most 32 characters")
	case len(s.Scope.Riders) > 0:
		return Scheme{}, invalid("scope_riders_set", "补贴人群即方案的人群类别，适用范围中不要再填乘客类别", "the scheme's group is its rider category; leave riders out of the scope")
	}
	probe := s
	probe.CampaignID = 1 // made below, once the scheme is known to be sound
	if err := probe.Validate(); err != nil {
		return Scheme{}, err
	}
	if svc.cfg.NewCampaign == nil {
		return Scheme{}, fault.New(fault.Unavailable, "benefits_unavailable", "增值票务服务未启动", "value-added tickets are not running in this process")
	}
	schemes, err := svc.store.Schemes(ctx)
	if err != nil {
		return Scheme{}, err
	}
	for _, o := range schemes {
		switch {
		case o.ID == s.ID:
			return Scheme{}, ErrSchemeExists
		case o.Group == s.Group:
			return Scheme{}, fault.Newf(fault.Conflict, "group_has_scheme", "该人群已有补贴方案 %s", "the group has a scheme already: %s", o.ID)
		}
	}
	p, c := CampaignFor(s, spec)
	if err := c.Validate(); err != nil { // before the product is stored
		return Scheme{}, err
	}
	if s.CampaignID, err = svc.cfg.NewCampaign(ctx, p, c, actor); err != nil {
		return Scheme{}, err
	}
	if err := svc.store.CreateScheme(ctx, s, svc.cfg.Now()); err != nil {
		return Scheme{}, err
	}
	if err := svc.cfg.Audit.Record(ctx, "subsidy.scheme.create", "subsidy_scheme:"+s.ID, nil, s, ""); err != nil {
		return Scheme{}, err
	}
	return s, nil
}

// Scheme returns a scheme.
func (svc *Service) Scheme(ctx context.Context, id string) (Scheme, error) {
	return svc.store.Scheme(ctx, id)
}

// Schemes lists the schemes.
func (svc *Service) Schemes(ctx context.Context) ([]Scheme, error) { return svc.store.Schemes(ctx) }

// Enrolment returns an enrolment.
func (svc *Service) Enrolment(ctx context.Context, id int64) (Enrolment, error) {
	return svc.store.Enrolment(ctx, id)
}

// AccountEnrolments lists an account's enrolments, newest first.
func (svc *Service) AccountEnrolments(ctx context.Context, account int64) ([]Enrolment, error) {
	return svc.store.AccountEnrolments(ctx, account)
}

// Enrolments lists enrolments matching f; Filter{Awaiting: true} is the
// operator's review queue.
func (svc *Service) Enrolments(ctx context.Context, f Filter) ([]Enrolment, error) {
	return svc.store.Enrolments(ctx, f)
}

// Apply files account's application to scheme schemeID with a reference
// to its evidence. Re-enrolment after rejection, expiry or revocation is
// a new application.
func (svc *Service) Apply(ctx context.Context, account int64, schemeID, evidence string) (Enrolment, error) {
	s, err := svc.store.Scheme(ctx, schemeID)
	if err != nil {
		return Enrolment{}, err
	}
	prior, err := svc.store.AccountEnrolments(ctx, account)
	if err != nil {
		return Enrolment{}, err
	}
	e, err := Apply(s, prior, account, evidence, svc.cfg.Now())
	if err != nil {
		return Enrolment{}, err
	}
	if err := svc.store.CreateEnrolment(ctx, &e); err != nil {
		return Enrolment{}, err
	}
	return e, nil
}

// Verify has operator by verify enrolment id (an application or a pending
// renewal); the account holds the scheme's group for the new period.
func (svc *Service) Verify(ctx context.Context, id int64, by string) (Enrolment, error) {
	return svc.transition(ctx, "subsidy.enrolment.verify", "", id, 0, func(e Enrolment, s Scheme, at time.Time) (Enrolment, error) { return Verify(e, s, by, at) })
}

// Reject has operator by refuse enrolment id for reason: an application
// is rejected; a pending renewal is dropped and the enrolment runs on.
func (svc *Service) Reject(ctx context.Context, id int64, by, reason string) (Enrolment, error) {
	return svc.transition(ctx, "subsidy.enrolment.reject", reason, id, 0, func(e Enrolment, _ Scheme, at time.Time) (Enrolment, error) { return Reject(e, by, reason, at) })
}

// RequestRenewal files account's request to renew its enrolment id with
// new evidence. Another account's enrolment is not found.
func (svc *Service) RequestRenewal(ctx context.Context, account, id int64, evidence string) (Enrolment, error) {
	return svc.transition(ctx, "", "", id, account, func(e Enrolment, s Scheme, at time.Time) (Enrolment, error) {
		return RequestRenewal(e, s, evidence, at)
	})
}

// Revoke has operator by withdraw active enrolment id for reason; the
// account's group ends at once, so trips begun later are not subsidised.
func (svc *Service) Revoke(ctx context.Context, id int64, by, reason string) (Enrolment, error) {
	return svc.transition(ctx, "subsidy.enrolment.revoke", reason, id, 0, func(e Enrolment, _ Scheme, at time.Time) (Enrolment, error) { return Revoke(e, by, reason, at) })
}

// transition runs fn on enrolment id and its scheme now, stores the
// result if nobody changed the enrolment meanwhile, and grants the
// account's group as the result has it. account, when not 0, must own
// the enrolment. An operator's decision names its audit action (with the
// reason given); a rider's own request names none.
func (svc *Service) transition(ctx context.Context, action, reason string, id, account int64, fn func(Enrolment, Scheme, time.Time) (Enrolment, error)) (Enrolment, error) {
	e, err := svc.store.Enrolment(ctx, id)
	if err != nil {
		return Enrolment{}, err
	}
	if account != 0 && e.Account != account {
		return Enrolment{}, ErrEnrolmentNotFound
	}
	s, err := svc.store.Scheme(ctx, e.SchemeID)
	if err != nil {
		return Enrolment{}, err
	}
	next, err := fn(e, s, svc.cfg.Now())
	if err != nil {
		return Enrolment{}, err
	}
	if err := svc.store.UpdateEnrolment(ctx, next); err != nil {
		return Enrolment{}, err
	}
	if action != "" {
		if err := svc.cfg.Audit.Record(ctx, action, fmt.Sprintf("subsidy_enrolment:%d", id), auditView(e), auditView(next), reason); err != nil {
			return Enrolment{}, err
		}
	}
	if g, ok := GrantOf(next); ok && (!next.From.Equal(e.From) || !next.Until.Equal(e.Until) || next.State != e.State) {
		if err := svc.grant(ctx, []GroupGrant{g}); err != nil {
			// The transition is stored; Reconcile grants it on its next run.
			return next, fault.Wrap(err, "grant rider category")
		}
	}
	return next, nil
}

// enrolmentView is what the audit trail keeps of an enrolment: its state
// and period, without the evidence (personal data) or its own history.
type enrolmentView struct {
	ID       int64     `json:"id"`
	Account  int64     `json:"account"`
	SchemeID string    `json:"scheme_id"`
	Group    Group     `json:"group"`
	State    State     `json:"state"`
	From     time.Time `json:"from,omitzero"`
	Until    time.Time `json:"until,omitzero"`
	Reason   string    `json:"reason,omitempty"`
	Renewal  bool      `json:"renewal_pending,omitempty"`
}

func auditView(e Enrolment) enrolmentView {
	return enrolmentView{e.ID, e.Account, e.SchemeID, e.Group, e.State, e.From, e.Until, e.Reason, e.Renewal != nil}
}

func (svc *Service) grant(ctx context.Context, gs []GroupGrant) error {
	if svc.cfg.Grant == nil || len(gs) == 0 {
		return nil
	}
	return svc.cfg.Grant(ctx, gs)
}

// GrantOf returns the rider category an enrolment gives its account:
// [From, Until) once verified, ending at the revocation when revoked;
// false for an enrolment never verified.
func GrantOf(e Enrolment) (GroupGrant, bool) {
	g := GroupGrant{Account: e.Account, Group: e.Group, From: e.From, Until: e.Until}
	switch e.State {
	case Active, Expired:
		return g, true
	case Revoked:
		if e.From.IsZero() {
			return GroupGrant{}, false
		}
		for i := len(e.History) - 1; i >= 0; i-- {
			if ev := e.History[i]; ev.Kind == EvRevoked {
				if ev.At.Before(g.Until) {
					g.Until = ev.At
				}
				if g.Until.Before(g.From) {
					g.Until = g.From
				}
				return g, true
			}
		}
	}
	return GroupGrant{}, false
}

// sweepPage is how many enrolments one sweep step reads.
const sweepPage = 500

// ExpireDue records the expiry of every active enrolment past its Until
// at now and returns how many it expired. One changed meanwhile (renewed,
// revoked) is left as the other change made it.
func (svc *Service) ExpireDue(ctx context.Context) (int, error) {
	now := svc.cfg.Now()
	n := 0
	var after int64
	for {
		es, err := svc.store.Enrolments(ctx, Filter{States: []State{Active}, UntilBefore: now, AfterID: after, Limit: sweepPage})
		if err != nil {
			return n, err
		}
		for _, e := range es {
			after = e.ID
			next, err := Expire(e, now)
			if err != nil {
				continue // renewed or dated after now meanwhile
			}
			switch err := svc.store.UpdateEnrolment(ctx, next); {
			case err == nil:
				n++
			case errors.Is(err, ErrStale):
			default:
				return n, err
			}
		}
		if len(es) < sweepPage {
			return n, nil
		}
	}
}

// Reconcile grants every verified enrolment's rider category again, the
// latest enrolment of an account and group winning, so a grant a failed
// write missed is made good. It returns how many grants it wrote.
func (svc *Service) Reconcile(ctx context.Context) (int, error) {
	type key struct {
		account int64
		group   Group
	}
	latest := map[key]GroupGrant{}
	var order []key
	var after int64
	for {
		es, err := svc.store.Enrolments(ctx, Filter{States: []State{Active, Expired, Revoked}, AfterID: after, Limit: sweepPage})
		if err != nil {
			return 0, err
		}
		for _, e := range es { // by ID: a later enrolment replaces an earlier one
			after = e.ID
			if g, ok := GrantOf(e); ok {
				k := key{e.Account, e.Group}
				if _, seen := latest[k]; !seen {
					order = append(order, k)
				}
				latest[k] = g
			}
		}
		if len(es) < sweepPage {
			break
		}
	}
	gs := make([]GroupGrant, 0, len(order))
	for _, k := range order {
		gs = append(gs, latest[k])
	}
	for i := 0; i < len(gs); i += sweepPage {
		if err := svc.grant(ctx, gs[i:min(i+sweepPage, len(gs))]); err != nil {
			return i, err
		}
	}
	return len(gs), nil
}

// Run expires due enrolments and reconciles grants at once and then
// every interval (default one hour) until ctx ends.
func (svc *Service) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := svc.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			slog.Error("subsidy expiry sweep", "err", err)
		} else if n > 0 {
			slog.Info("subsidy enrolments expired", "count", n)
		}
		if _, err := svc.Reconcile(ctx); err != nil && ctx.Err() == nil {
			slog.Error("subsidy grant reconcile", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
