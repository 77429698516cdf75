package httpapi

import (
	"context"
	"time"

	"piao/internal/behaviour"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/network"
)

// governanceRoutes registers cancellation governance (G1–G4).
func (s *Server) governanceRoutes() {
	g := s.group(s.deps.Governance != nil, governance.ErrNotRunning)
	add(g, identity.GovernanceRead, op("GET", "/api/v1/governance/rules", "getGovernanceRules", "governance", "The cancel limits and list rules in force", "取消次数限制与名单规则"), s.getRules)
	add(g, identity.BookingAdmin, op("PUT", "/api/v1/governance/rules", "putGovernanceRules", "governance", "Replace the cancel limits and list rules", "修改取消次数限制与名单规则"), s.putRules)
	add(g, identity.GovernanceRead, op("GET", "/api/v1/governance/counts", "getCancelCounts", "governance", "A subject's manual cancels and expiries on a service day", "账号或乘客某日的手工取消与超时返库次数"), s.getCounts)
	add(g, identity.GovernanceRead, op("GET", "/api/v1/governance/members", "listMembers", "governance", "List memberships of the restricted, priority and suspected-malicious lists", "受限、优先、疑似恶意名单"), s.listMembers)
	add(g, identity.GovernanceRead, op("GET", "/api/v1/governance/members/{id}", "getMember", "governance", "One membership with its audit trail", "名单记录及其审计轨迹"), s.getMember)
	add(g, identity.GovernanceEdit, op("POST", "/api/v1/governance/members", "addMember", "governance", "Put a subject on a list by hand", "人工加入名单"), s.addMember)
	add(g, identity.GovernanceEdit, op("POST", "/api/v1/governance/members/{id}/lift", "liftMember", "governance", "Lift a membership now", "解除名单"), s.liftMember)
	add(g, identity.GovernanceEdit, op("POST", "/api/v1/governance/members/{id}/extend", "extendMember", "governance", "Extend a membership", "延长名单期限"), s.extendMember)
	add(g, identity.GovernanceRead, op("GET", "/api/v1/governance/report", "cancellationReport", "governance", "Booking-behaviour findings (seed 004 (1)–(6), Fig. 1, accounts per passenger) over a window, for the network or one train", "取消行为分析：论文结论 (1)–(6)、图 1 与每位乘车人使用的账号数"), s.cancellationReport)
	add(g, identity.GovernanceEdit, op("POST", "/api/v1/governance/evaluate", "evaluateLists", "governance", "Apply the list rules to the rolling window now", "立即按规则评估名单"), s.evaluateLists)
}

// actor names the caller in audit trails.
func actor(ctx context.Context) string {
	a := PrincipalFrom(ctx).Account
	return governance.Actor(a.ID, a.Username)
}

type rulesOutput struct{ Body governance.Rules }

func (s *Server) getRules(ctx context.Context, _ *struct{}) (*rulesOutput, error) {
	r, err := s.deps.Governance.Rules(ctx)
	if err != nil {
		return nil, err
	}
	return &rulesOutput{Body: r}, nil
}

type rulesInput struct {
	Reason string `query:"reason" maxLength:"500" doc:"Why the change is made, kept in the audit trail"`
	Body   governance.Rules
}

func (s *Server) putRules(ctx context.Context, in *rulesInput) (*rulesOutput, error) {
	if err := s.deps.Governance.SetRules(ctx, in.Body, actor(ctx), in.Reason); err != nil {
		return nil, err
	}
	return s.getRules(ctx, nil)
}

type countsInput struct {
	Subject string `query:"subject" required:"true" maxLength:"64" doc:"account:ID or doc:TYPE:NUMBER"`
	Date    string `query:"date" maxLength:"10" doc:"Service day YYYY-MM-DD; default today (Asia/Shanghai, from the rules' day start)"`
}

type countsOutput struct {
	Body struct {
		Subject string            `json:"subject"`
		Date    string            `json:"date"`
		Counts  governance.Counts `json:"counts"`
	}
}

func (s *Server) getCounts(ctx context.Context, in *countsInput) (*countsOutput, error) {
	if err := governance.ValidSubject(in.Subject); err != nil {
		return nil, err
	}
	day, err := s.deps.Governance.Today(ctx, time.Now())
	if in.Date != "" {
		day, err = network.ParseDate(in.Date)
	}
	if err != nil {
		return nil, err
	}
	c, err := s.deps.Governance.DayCounts(ctx, day, in.Subject)
	if err != nil {
		return nil, err
	}
	out := &countsOutput{}
	out.Body.Subject, out.Body.Date, out.Body.Counts = in.Subject, day.String(), c
	return out, nil
}

type membersInput struct {
	List    string `query:"list" enum:"restricted,priority,malicious," doc:"One list; all if empty"`
	Subject string `query:"subject" maxLength:"64" doc:"One subject: account:ID or doc:TYPE:NUMBER"`
	Active  bool   `query:"active" doc:"Only memberships in force now"`
	Limit   int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
	Offset  int    `query:"offset" minimum:"0" maximum:"1000000"`
}

type membersOutput struct {
	Body struct {
		Members []governance.Membership `json:"members"`
	}
}

func (s *Server) listMembers(ctx context.Context, in *membersInput) (*membersOutput, error) {
	f := governance.MemberFilter{List: governance.List(in.List), Subject: in.Subject, Limit: in.Limit, Offset: in.Offset}
	if in.Active {
		f.ActiveAt = time.Now()
	}
	ms, err := s.deps.Governance.Members(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &membersOutput{}
	out.Body.Members = nonNil(ms)
	return out, nil
}

type memberIDPath struct {
	ID int64 `path:"id" minimum:"1" doc:"Membership ID"`
}

type memberOutput struct{ Body governance.Membership }

// memberView is getMember's input: the membership, and whether to show its document in full.
type memberView struct {
	ID   int64 `path:"id" minimum:"1" doc:"Membership ID"`
	Full bool  `query:"full" doc:"Show the document in full (needs pii:read; audited)"`
}

func (s *Server) getMember(ctx context.Context, in *memberView) (*memberOutput, error) {
	m, err := s.deps.Governance.Member(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &memberOutput{Body: m}, nil
}

type addMemberInput struct {
	Body struct {
		List    governance.List `json:"list" enum:"restricted,priority,malicious"`
		Subject string          `json:"subject" maxLength:"64" doc:"account:ID or doc:TYPE:NUMBER"`
		Reason  string          `json:"reason" minLength:"1" maxLength:"500"`
		Days    int             `json:"days" minimum:"1" maximum:"3660" doc:"How long the membership lasts"`
	}
}

func (s *Server) addMember(ctx context.Context, in *addMemberInput) (*memberOutput, error) {
	m, err := s.deps.Governance.Add(ctx, in.Body.List, in.Body.Subject, in.Body.Reason, in.Body.Days, actor(ctx))
	if err != nil {
		return nil, err
	}
	return &memberOutput{Body: m}, nil
}

type liftInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Membership ID"`
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"500"`
	}
}

func (s *Server) liftMember(ctx context.Context, in *liftInput) (*memberOutput, error) {
	m, err := s.deps.Governance.Lift(ctx, in.ID, in.Body.Reason, actor(ctx))
	if err != nil {
		return nil, err
	}
	return &memberOutput{Body: m}, nil
}

type extendInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Membership ID"`
	Body struct {
		Days   int    `json:"days" minimum:"1" maximum:"3660" doc:"Days added to the current expiry"`
		Reason string `json:"reason" minLength:"1" maxLength:"500"`
	}
}

func (s *Server) extendMember(ctx context.Context, in *extendInput) (*memberOutput, error) {
	m, err := s.deps.Governance.Extend(ctx, in.ID, in.Body.Days, in.Body.Reason, actor(ctx))
	if err != nil {
		return nil, err
	}
	return &memberOutput{Body: m}, nil
}

type evaluationOutput struct{ Body governance.Evaluation }

func (s *Server) evaluateLists(ctx context.Context, _ *struct{}) (*evaluationOutput, error) {
	ev, err := s.deps.Governance.Evaluate(ctx)
	if err != nil {
		return nil, err
	}
	return &evaluationOutput{Body: ev}, nil
}

type reportInput struct {
	From  string `query:"from" maxLength:"10" doc:"First day YYYY-MM-DD (Asia/Shanghai); default 29 days before to"`
	To    string `query:"to" maxLength:"10" doc:"Last day YYYY-MM-DD, inclusive; default today"`
	Train string `query:"train" maxLength:"64" doc:"Train number (Z66) or service ID (cr:Z66); the whole network if empty"`
}

type reportOutput struct {
	Body struct {
		From   string           `json:"from"`
		To     string           `json:"to"`
		Train  string           `json:"train,omitempty"`
		Report behaviour.Report `json:"report"`
	}
}

func (s *Server) cancellationReport(ctx context.Context, in *reportInput) (*reportOutput, error) {
	to, err := s.dateOrToday(in.To)
	if err != nil {
		return nil, err
	}
	from := to.AddDays(-29)
	if in.From != "" {
		if from, err = network.ParseDate(in.From); err != nil {
			return nil, err
		}
	}
	train, err := governance.ResolveTrain(ctx, s.deps.Catalog, in.Train)
	if err != nil {
		return nil, err
	}
	r, err := s.deps.Governance.Report(ctx, governance.DatesWindow(from, to, train))
	if err != nil {
		return nil, err
	}
	out := &reportOutput{}
	out.Body.From, out.Body.To, out.Body.Train, out.Body.Report = from.String(), to.String(), train, r
	return out, nil
}
