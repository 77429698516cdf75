package httpapi

import (
	"context"

	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/ridemore"
)

// ridemoreRoutes registers the monthly ride-more-save-more job (SPEC M4).
func (s *Server) ridemoreRoutes() {
	g := s.group(s.deps.Metro != nil, metro.ErrNotRunning).and(s.deps.Benefits != nil, benefits.ErrNotRunning)
	add(g, identity.BenefitsEdit, op("POST", "/api/v1/ridemore/issue", "issueRideMoreRewards", "metro",
		"Issue a month's ride-more-save-more rewards under a ningbo_count rule, on the first days of the next month; each reward ticket is issued once however often it runs",
		"按多乘多惠规则（ningbo_count）发放某月奖励：须在次月前几天内发放，每张奖励票只发一次"), s.issueRideMore)
}

type rideMoreInput struct {
	Body struct {
		Rule  ridemore.Rule `json:"rule" doc:"the rule (docs/RIDEMORE.md §1): kind ningbo_count, its campaign and tiers"`
		Month string        `json:"month" pattern:"^[0-9]{4}-[0-9]{2}$" doc:"the month whose rides are counted, YYYY-MM"`
		Feed  string        `json:"feed" minLength:"1" maxLength:"64" doc:"the metro network whose trips are counted"`
	}
}

func (s *Server) issueRideMore(ctx context.Context, in *rideMoreInput) (*body[ridemore.IssueReport], error) {
	month, err := ridemore.ParseMonth(in.Body.Month)
	if err != nil {
		return nil, err
	}
	rep, err := ridemore.IssueMonthly(ctx, s.deps.Metro, s.deps.Benefits, in.Body.Rule,
		ridemore.IssueOptions{Feed: in.Body.Feed, Month: month}, s.deps.Benefits.Now())
	if err != nil {
		return nil, err
	}
	return &body[ridemore.IssueReport]{rep}, nil
}
