package httpapi

import (
	"context"

	"piao/internal/abuse"
	"piao/internal/booking"
	"piao/internal/identity"
)

// waitlistRoutes registers the waitlist (候补, R9) and booking policy endpoints.
func (s *Server) waitlistRoutes() {
	g := s.group(s.deps.Booking != nil, booking.ErrNotRunning)
	add(g.limited(abuse.Waitlist), identity.OrdersOwn, op("POST", "/api/v1/waitlist", "joinWaitlist", "waitlist",
		"Join the waitlist for 1–5 passengers with up to the policy's options (train, date, class, berth) and a deadline; then POST …/payment to prepay the highest fare among the options",
		"候补购票：列出可接受的车次、席别、铺位与截止时间，预付最高票价；有人退票、取消或超时释放的席位优先兑现候补"), s.joinWaitlist)
	add(g, identity.OrdersOwn, op("GET", "/api/v1/waitlist", "listWaitlist", "waitlist", "The caller's waitlist entries, newest first, with position and estimated chance of the active ones", ""), s.listWaitlist)
	add(g, identity.OrdersOwn, op("GET", "/api/v1/waitlist/{id}", "getWaitlist", "waitlist", "One of the caller's waitlist entries with events, position and estimated chance", ""), s.getWaitlist)
	add(g, identity.OrdersOwn, op("POST", "/api/v1/waitlist/{id}/payment", "payWaitlist", "waitlist", "Create (or get again) the prepayment of an unpaid waitlist entry", "候补预付"), s.payWaitlist)
	add(g.limited(abuse.Cancel), identity.OrdersOwn, op("POST", "/api/v1/waitlist/{id}/cancel", "cancelWaitlist", "waitlist", "Withdraw an unpaid or waiting entry; a prepaid one is refunded in full", "取消候补，全额退款"), s.cancelWaitlist)
	add(g, identity.OrdersRead, op("GET", "/api/v1/admin/waitlist/{id}", "adminGetWaitlist", "waitlist", "Any waitlist entry, for operators", ""), s.adminGetWaitlist)
	add(g, identity.Public, op("GET", "/api/v1/booking/policy", "getBookingPolicy", "waitlist", "The booking policy: elderly lower berths, proposal 1, waitlist limits and order", "购票策略"), s.getPolicy)
	add(g, identity.BookingAdmin, op("PUT", "/api/v1/booking/policy", "putBookingPolicy", "waitlist", "Replace the booking policy", "修改购票策略"), s.putPolicy)
}

type joinWaitlistInput struct{ Body booking.WaitlistRequest }

type waitlistOutput struct{ Body booking.WaitlistEntry }

type waitlistIDPath struct {
	ID int64 `path:"id" minimum:"1" doc:"Waitlist entry ID"`
}

func (s *Server) waitlistResult(e booking.WaitlistEntry, err error) (*waitlistOutput, error) {
	if err != nil {
		return nil, err
	}
	return &waitlistOutput{Body: e}, nil
}

func (s *Server) joinWaitlist(ctx context.Context, in *joinWaitlistInput) (*waitlistOutput, error) {
	in.Body.AccountID = PrincipalFrom(ctx).Account.ID
	return s.waitlistResult(s.deps.Booking.JoinWaitlist(ctx, in.Body))
}

func (s *Server) getWaitlist(ctx context.Context, in *waitlistIDPath) (*waitlistOutput, error) {
	return s.waitlistResult(s.deps.Booking.Waitlist(ctx, in.ID, PrincipalFrom(ctx).Account.ID))
}

func (s *Server) adminGetWaitlist(ctx context.Context, in *waitlistIDPath) (*waitlistOutput, error) {
	return s.waitlistResult(s.deps.Booking.Waitlist(ctx, in.ID, 0))
}

func (s *Server) cancelWaitlist(ctx context.Context, in *waitlistIDPath) (*waitlistOutput, error) {
	return s.waitlistResult(s.deps.Booking.CancelWaitlist(ctx, in.ID, PrincipalFrom(ctx).Account.ID))
}

type waitlistsOutput struct {
	Body struct {
		Entries []booking.WaitlistEntry `json:"entries"`
	}
}

func (s *Server) listWaitlist(ctx context.Context, in *listOrdersInput) (*waitlistsOutput, error) {
	es, err := s.deps.Booking.Waitlists(ctx, PrincipalFrom(ctx).Account.ID, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &waitlistsOutput{}
	out.Body.Entries = nonNil(es)
	return out, nil
}

func (s *Server) payWaitlist(ctx context.Context, in *waitlistIDPath) (*payOutput, error) {
	p, err := s.deps.Booking.WaitlistPayment(ctx, in.ID, PrincipalFrom(ctx).Account.ID)
	if err != nil {
		return nil, err
	}
	return &payOutput{Body: p}, nil
}

type policyOutput struct{ Body booking.Policy }

func (s *Server) getPolicy(ctx context.Context, _ *struct{}) (*policyOutput, error) {
	p, err := s.deps.Booking.Policy(ctx)
	if err != nil {
		return nil, err
	}
	return &policyOutput{Body: p}, nil
}

type putPolicyInput struct {
	Reason string `query:"reason" maxLength:"500" doc:"Why the change is made, kept in the audit trail"`
	Body   booking.Policy
}

func (s *Server) putPolicy(ctx context.Context, in *putPolicyInput) (*policyOutput, error) {
	if err := s.deps.Booking.SetPolicy(ctx, in.Body, in.Reason); err != nil {
		return nil, err
	}
	return &policyOutput{Body: in.Body}, nil
}
