package httpapi

import (
	"context"
	"time"

	"piao/internal/audit"
	"piao/internal/identity"
)

// auditRoutes serves the audit trail to auditors (audit:read).
func (s *Server) auditRoutes() {
	g := s.always()
	add(g, identity.AuditRead, op("GET", "/api/v1/audit", "listAuditEntries", "audit",
		"The audit trail: who changed what (fee tables, fares, rules, lists, accounts, campaigns…), when, before and after, and why; newest first",
		"审计日志：谁在何时修改了什么（费率表、票价、规则、名单、账号、活动等），修改前后与原因；按时间倒序。下一页以 next_before_id 作为 before_id。"), s.listAudit)
}

type auditInput struct {
	ActorID  int64     `query:"actor" minimum:"0" doc:"Only this account's changes (its ID)"`
	Action   string    `query:"action" maxLength:"100" doc:"Only this action or the actions under it: fees, governance.list, account.create"`
	Subject  string    `query:"subject" maxLength:"200" doc:"Only changes of this subject: fee_table:refund, account:7, campaign:3"`
	From     time.Time `query:"from" doc:"At or after this moment (RFC 3339)"`
	Until    time.Time `query:"until" doc:"Before this moment (RFC 3339)"`
	BeforeID int64     `query:"before_id" minimum:"0" doc:"Paging: entries older than this ID (the previous page's next_before_id)"`
	Limit    int       `query:"limit" minimum:"1" maximum:"1000" default:"50"`
}

func (s *Server) listAudit(ctx context.Context, in *auditInput) (*body[audit.Page], error) {
	p, err := s.deps.Audit.Entries(ctx, audit.Filter{ActorID: in.ActorID, Action: in.Action, Subject: in.Subject,
		From: in.From, Until: in.Until, BeforeID: in.BeforeID, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	for i, e := range p.Entries {
		p.Entries[i] = e.InZone(shanghai)
	}
	return &body[audit.Page]{p}, nil
}
