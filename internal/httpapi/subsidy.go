package httpapi

import (
	"context"
	"time"

	"piao/internal/abuse"
	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/subsidy"
	"piao/internal/tenant"
)

// subsidyRoutes registers subsidies for special groups (SPEC M5): schemes,
// applications, the operator's review and the rider's renewal.
func (s *Server) subsidyRoutes() {
	g := s.group(s.deps.Subsidy != nil, subsidy.ErrNotRunning)
	const tag = "subsidy"
	add(g, identity.SubsidyEdit, op("POST", "/api/v1/subsidy-schemes", "createSubsidyScheme", tag,
		"Define a subsidy scheme for a special group with its automatic campaign, submitted for review; rides are subsidised once a reviewer approves the campaign",
		"定义特殊人群乘车补贴方案及其自动优惠活动（提交审核，审核通过后生效）"), s.createScheme)
	add(g, identity.Public, op("GET", "/api/v1/subsidy-schemes", "listSubsidySchemes", tag, "Subsidy schemes with their campaigns' status", "乘车补贴方案"), s.listSchemes)
	add(g, identity.Public, op("GET", "/api/v1/subsidy-schemes/{id}", "getSubsidyScheme", tag, "A subsidy scheme", ""), s.getScheme)
	add(g.limited(abuse.Claim), identity.SubsidyOwn, op("POST", "/api/v1/subsidy-schemes/{id}/apply", "applySubsidy", tag,
		"Apply for a subsidy with a reference to the evidence (certificate number, document ID); also re-enrolment after rejection, expiry or revocation",
		"申请乘车补贴（提供证明材料编号）；被驳回、过期或撤销后可重新申请"), s.applySubsidy)
	add(g, identity.SubsidyOwn, op("GET", "/api/v1/me/subsidy-enrolments", "listMySubsidyEnrolments", tag, "The caller's subsidy enrolments, newest first", "我的乘车补贴"), s.myEnrolments)
	add(g, identity.SubsidyOwn, op("POST", "/api/v1/me/subsidy-enrolments/{id}/renew", "renewSubsidy", tag,
		"Ask to renew an active enrolment within the scheme's renewal window, with new evidence", "在续期窗口内申请续期"), s.renewSubsidy)
	add(g, identity.SubsidyRead, op("GET", "/api/v1/subsidy-enrolments", "listSubsidyEnrolments", tag,
		"Enrolments, oldest first; awaiting=true is the review queue (applications and pending renewals)", "补贴申请列表；awaiting=true 为待审核队列"), s.listEnrolments)
	add(g, identity.SubsidyRead, op("GET", "/api/v1/subsidy-enrolments/{id}", "getSubsidyEnrolment", tag, "An enrolment with its history", ""), s.getEnrolment)
	add(g, identity.SubsidyReview, op("POST", "/api/v1/subsidy-enrolments/{id}/verify", "verifySubsidy", tag,
		"Verify an application or a pending renewal: the account holds the scheme's group for the new period", "审核通过：申请人在有效期内享受补贴"), s.verifySubsidy)
	add(g, identity.SubsidyReview, op("POST", "/api/v1/subsidy-enrolments/{id}/reject", "rejectSubsidy", tag,
		"Reject an application (or a pending renewal, which leaves the enrolment running) with a reason", "驳回申请或续期，须说明原因"), s.rejectSubsidy)
	add(g, identity.SubsidyReview, op("POST", "/api/v1/subsidy-enrolments/{id}/revoke", "revokeSubsidy", tag,
		"Revoke an active enrolment with a reason; trips begun afterwards are not subsidised", "撤销补贴资格，须说明原因；此后的行程不再补贴"), s.revokeSubsidy)
}

// schemeRequest is what a caller sets of a new scheme and its campaign.
type schemeRequest struct {
	ID          string            `json:"id" maxLength:"64" doc:"1–64 of a–z, 0–9, '-' and '_'"`
	Group       subsidy.Group     `json:"group" maxLength:"32" doc:"The rider category verified riders hold: teacher, talent, senior, disabled, veteran, student or another"`
	NameZH      string            `json:"name_zh,omitempty" maxLength:"60"`
	NameEN      string            `json:"name_en,omitempty" maxLength:"120"`
	Grant       subsidy.GrantKind `json:"grant" enum:"free,discount"`
	PercentOff  int               `json:"percent_off,omitempty" doc:"1–99 (discount)"`
	Cap         int64             `json:"cap,omitempty" doc:"Fen off one ride at most (discount; 0: no cap)"`
	ValidMonths int               `json:"valid_months" doc:"How long a verification lasts, 1–120 months"`
	RenewDays   int               `json:"renew_days,omitempty" doc:"Days before expiry from which renewal is accepted (0: no renewal)"`
	Combinable  bool              `json:"combinable,omitempty" doc:"Combine with the rider's coupons (default: exclusive, the better of the two applies)"`
	Scope       benefits.Scope    `json:"scope,omitempty" required:"false" doc:"Lines, stations, weekdays, hours subsidised (riders: leave out)"`
	Feed        string            `json:"feed" maxLength:"64" doc:"The metro network, e.g. nbmetro"`
	Starts      time.Time         `json:"starts" doc:"When the subsidy is funded from"`
	Ends        time.Time         `json:"ends" doc:"When funding ends (exclusive)"`
	BudgetValue int64             `json:"budget_value,omitempty" minimum:"0" doc:"Fen the subsidy may save in all (0: no cap)"`
}

type schemeInput struct{ Body schemeRequest }

// SchemeFields is subsidy.Scheme without its methods, so that schemeView
// can embed it: huma adds "$schema" to an answer by building a struct type
// with reflect.StructOf, which cannot embed a type with methods after the
// first field (huma issue 371) and then leaves the answer without its
// schema link, warning on stderr. It is exported because huma and
// encoding/json only promote the fields of exported embedded types.
type SchemeFields subsidy.Scheme

// schemeView is a scheme with the status of its campaign.
type schemeView struct {
	SchemeFields
	CampaignStatus benefits.Status `json:"campaign_status,omitempty" doc:"The campaign's effective status: the subsidy reaches rides while it is active"`
	Starts         time.Time       `json:"starts,omitzero"`
	Ends           time.Time       `json:"ends,omitzero"`
}

func (s *Server) schemeView(ctx context.Context, sc subsidy.Scheme) (schemeView, error) {
	v := schemeView{SchemeFields: SchemeFields(sc)}
	if s.deps.Benefits == nil {
		return v, nil
	}
	c, err := s.deps.Benefits.Campaign(ctx, tenant.All(), sc.CampaignID)
	if err != nil {
		return v, err
	}
	v.CampaignStatus, v.Starts, v.Ends = c.Effective(s.deps.Benefits.Now()), c.Starts, c.Ends
	return v, nil
}

func (s *Server) createScheme(ctx context.Context, in *schemeInput) (*body[schemeView], error) {
	b := in.Body
	sc, err := s.deps.Subsidy.CreateScheme(ctx, subsidy.Scheme{
		ID: b.ID, Group: b.Group, NameZH: b.NameZH, NameEN: b.NameEN, Grant: b.Grant, PercentOff: b.PercentOff, Cap: b.Cap,
		ValidMonths: b.ValidMonths, RenewDays: b.RenewDays, Combinable: b.Combinable, Scope: b.Scope,
	}, subsidy.CampaignSpec{Feed: b.Feed, Starts: b.Starts, Ends: b.Ends, BudgetValue: b.BudgetValue}, actor(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.schemeView(ctx, sc)
	if err != nil {
		return nil, err
	}
	return &body[schemeView]{v}, nil
}

type schemesOutput struct {
	Body struct {
		Schemes []schemeView `json:"schemes"`
	}
}

func (s *Server) listSchemes(ctx context.Context, _ *struct{}) (*schemesOutput, error) {
	scs, err := s.deps.Subsidy.Schemes(ctx)
	if err != nil {
		return nil, err
	}
	out := &schemesOutput{}
	out.Body.Schemes = []schemeView{}
	for _, sc := range scs {
		v, err := s.schemeView(ctx, sc)
		if err != nil {
			return nil, err
		}
		out.Body.Schemes = append(out.Body.Schemes, v)
	}
	return out, nil
}

type schemeIDPath struct {
	ID string `path:"id" maxLength:"64"`
}

func (s *Server) getScheme(ctx context.Context, in *schemeIDPath) (*body[schemeView], error) {
	sc, err := s.deps.Subsidy.Scheme(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	v, err := s.schemeView(ctx, sc)
	if err != nil {
		return nil, err
	}
	return &body[schemeView]{v}, nil
}

// EnrolmentFields is subsidy.Enrolment without its methods, so that
// enrolmentView can embed it (see SchemeFields).
type EnrolmentFields subsidy.Enrolment

// enrolmentView is an enrolment with its state now and when renewal opens.
type enrolmentView struct {
	EnrolmentFields
	Effective    subsidy.State `json:"effective_state" doc:"The state now: expired once Until has passed, even before the sweep records it"`
	RenewalOpens time.Time     `json:"renewal_opens,omitzero"`
	SchemeNameZH string        `json:"scheme_name_zh,omitempty"`
	SchemeNameEN string        `json:"scheme_name_en,omitempty"`
}

// enrolmentViews describes enrolments, reading each scheme once.
func (s *Server) enrolmentViews(ctx context.Context, es []subsidy.Enrolment) ([]enrolmentView, error) {
	now := s.deps.Subsidy.Now()
	schemes := map[string]subsidy.Scheme{}
	out := make([]enrolmentView, 0, len(es))
	for _, e := range es {
		sc, ok := schemes[e.SchemeID]
		if !ok {
			var err error
			if sc, err = s.deps.Subsidy.Scheme(ctx, e.SchemeID); err != nil {
				return nil, err
			}
			schemes[e.SchemeID] = sc
		}
		v := enrolmentView{EnrolmentFields: EnrolmentFields(e), Effective: e.StateAt(now), SchemeNameZH: sc.NameZH, SchemeNameEN: sc.NameEN}
		if v.Effective == subsidy.Active {
			v.RenewalOpens = e.RenewalOpens(sc)
		}
		out = append(out, v)
	}
	return out, nil
}

// withEnrolment runs fn on the subsidy service and answers with the
// enrolment fn returns.
func (s *Server) withEnrolment(ctx context.Context, fn func(*subsidy.Service) (subsidy.Enrolment, error)) (*body[enrolmentView], error) {
	out, err := s.withEnrolments(ctx, func(svc *subsidy.Service) ([]subsidy.Enrolment, error) {
		e, err := fn(svc)
		return []subsidy.Enrolment{e}, err
	})
	if err != nil {
		return nil, err
	}
	return &body[enrolmentView]{out.Body.Enrolments[0]}, nil
}

type enrolmentsOutput struct {
	Body struct {
		Enrolments []enrolmentView `json:"enrolments"`
	}
}

// withEnrolments runs fn on the subsidy service and answers with the
// enrolments it returns.
func (s *Server) withEnrolments(ctx context.Context, fn func(*subsidy.Service) ([]subsidy.Enrolment, error)) (*enrolmentsOutput, error) {
	es, err := fn(s.deps.Subsidy)
	if err != nil {
		return nil, err
	}
	vs, err := s.enrolmentViews(ctx, es)
	if err != nil {
		return nil, err
	}
	out := &enrolmentsOutput{}
	out.Body.Enrolments = vs
	return out, nil
}

// evidenceBody carries a reference to the rider's proof.
type evidenceBody struct {
	Evidence string `json:"evidence" maxLength:"256" doc:"A reference to the proof (certificate number, stored document ID), never the document"`
}

type applyInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body evidenceBody
}

func (s *Server) applySubsidy(ctx context.Context, in *applyInput) (*body[enrolmentView], error) {
	return s.withEnrolment(ctx, func(svc *subsidy.Service) (subsidy.Enrolment, error) {
		return svc.Apply(ctx, PrincipalFrom(ctx).Account.ID, in.ID, in.Body.Evidence)
	})
}

func (s *Server) myEnrolments(ctx context.Context, _ *struct{}) (*enrolmentsOutput, error) {
	return s.withEnrolments(ctx, func(svc *subsidy.Service) ([]subsidy.Enrolment, error) {
		return svc.AccountEnrolments(ctx, PrincipalFrom(ctx).Account.ID)
	})
}

type renewInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body evidenceBody
}

func (s *Server) renewSubsidy(ctx context.Context, in *renewInput) (*body[enrolmentView], error) {
	return s.withEnrolment(ctx, func(svc *subsidy.Service) (subsidy.Enrolment, error) {
		return svc.RequestRenewal(ctx, PrincipalFrom(ctx).Account.ID, in.ID, in.Body.Evidence)
	})
}

type enrolmentsInput struct {
	Awaiting bool   `query:"awaiting" doc:"Only those waiting for review: applications and pending renewals"`
	State    string `query:"state" enum:"applied,active,rejected,expired,revoked" doc:"Keep enrolments with this stored state"`
	Scheme   string `query:"scheme" maxLength:"64"`
	After    int64  `query:"after" minimum:"0" doc:"Enrolments with IDs above this, to page on"`
	Limit    int    `query:"limit" minimum:"0" maximum:"1000"`
}

func (s *Server) listEnrolments(ctx context.Context, in *enrolmentsInput) (*enrolmentsOutput, error) {
	f := subsidy.Filter{Awaiting: in.Awaiting, SchemeID: in.Scheme, AfterID: in.After, Limit: in.Limit}
	if in.State != "" {
		f.States = []subsidy.State{subsidy.State(in.State)}
	}
	return s.withEnrolments(ctx, func(svc *subsidy.Service) ([]subsidy.Enrolment, error) { return svc.Enrolments(ctx, f) })
}

type enrolmentIDPath struct {
	ID int64 `path:"id" minimum:"1"`
}

func (s *Server) getEnrolment(ctx context.Context, in *enrolmentIDPath) (*body[enrolmentView], error) {
	return s.withEnrolment(ctx, func(svc *subsidy.Service) (subsidy.Enrolment, error) { return svc.Enrolment(ctx, in.ID) })
}

func (s *Server) verifySubsidy(ctx context.Context, in *enrolmentIDPath) (*body[enrolmentView], error) {
	return s.withEnrolment(ctx, func(svc *subsidy.Service) (subsidy.Enrolment, error) { return svc.Verify(ctx, in.ID, actor(ctx)) })
}

type decisionInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Reason string `json:"reason" maxLength:"200" doc:"Why, shown to the rider"`
	}
}

func (s *Server) rejectSubsidy(ctx context.Context, in *decisionInput) (*body[enrolmentView], error) {
	return s.withEnrolment(ctx, func(svc *subsidy.Service) (subsidy.Enrolment, error) {
		return svc.Reject(ctx, in.ID, actor(ctx), in.Body.Reason)
	})
}

func (s *Server) revokeSubsidy(ctx context.Context, in *decisionInput) (*body[enrolmentView], error) {
	return s.withEnrolment(ctx, func(svc *subsidy.Service) (subsidy.Enrolment, error) {
		return svc.Revoke(ctx, in.ID, actor(ctx), in.Body.Reason)
	})
}
