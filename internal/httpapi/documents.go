package httpapi

import (
	"context"

	"piao/internal/abuse"
	"piao/internal/governance"
	"piao/internal/identity"
)

// documentRoutes registers document ownership: a passenger's passenger
// list, claims of holding a document and approvals of other accounts, and
// the operators' review of claims. The answers carry document numbers in
// "doc_number" fields, which maskPII masks with every other answer's (full
// only for identity.PIIRead with ?full=true, audited); the holder's name
// stays, for reviewers to compare with the evidence.
func (s *Server) documentRoutes() {
	g := s.group(s.deps.Governance != nil, governance.ErrNotRunning)
	const tag = "documents"
	add(g, identity.OrdersOwn, op("GET", "/api/v1/me/documents", "listMyDocuments", tag,
		"The caller's passenger list: documents used on the account and whether each is verified and approved", "我的乘车人证件：是否已由本人核验、本账号是否获同意"), s.myDocuments)
	add(g, identity.OrdersOwn, op("GET", "/api/v1/me/documents/claims", "listMyDocumentClaims", tag,
		"The caller's claims of holding a document, newest first", "我的证件核验申请"), s.myClaims)
	add(g.limited(abuse.Claim), identity.OrdersOwn, op("POST", "/api/v1/me/documents/claims", "claimDocument", tag,
		"Claim a document as the caller's own; an operator verifies it, and then only the caller and the accounts the caller approves can book it or have its cancels counted", "申请核验本人证件：核验后只有本人及本人同意的账号能为其订票，其取消才计入该证件"), s.claimDocument)
	add(g.limited(abuse.Claim), identity.OrdersOwn, op("POST", "/api/v1/me/documents/approvals", "approveDocumentAccount", tag,
		"As a document's verified holder, approve another account to book it, or withdraw the approval", "证件持有人同意（或撤销同意）其他账号为本人订票"), s.approveAccount)
	add(g, identity.GovernanceRead, op("GET", "/api/v1/document-claims", "listDocumentClaims", tag,
		"Claims of holding a document, newest first, for review", "证件核验申请（审核用）"), s.listClaims)
	add(g, identity.GovernanceEdit, op("POST", "/api/v1/document-claims/{id}/verify", "verifyDocumentClaim", tag,
		"Verify a pending claim: its account becomes the document's holder (audited as document.verify)", "通过核验：申请账号成为证件持有人"), s.verifyClaim)
	add(g, identity.GovernanceEdit, op("POST", "/api/v1/document-claims/{id}/reject", "rejectDocumentClaim", tag,
		"Reject a pending claim (audited as document.reject)", "驳回核验申请"), s.rejectClaim)
	add(g, identity.GovernanceEdit, op("POST", "/api/v1/document-claims/{id}/revoke", "revokeDocumentClaim", tag,
		"Withdraw a verified holder, leaving the document unverified (audited as document.revoke)", "撤销已通过的核验"), s.revokeClaim)
}

type myDocumentsOutput struct {
	Body struct {
		Documents []governance.LinkedDocument `json:"documents"`
	}
}

func (s *Server) myDocuments(ctx context.Context, _ *struct{}) (*myDocumentsOutput, error) {
	docs, err := s.deps.Governance.PassengerList(ctx, PrincipalFrom(ctx).Account.ID)
	if err != nil {
		return nil, err
	}
	out := &myDocumentsOutput{}
	out.Body.Documents = nonNil(docs)
	return out, nil
}

type claimsOutput struct {
	Body struct {
		Claims []governance.Claim `json:"claims"`
	}
}

func claimsAnswer(cs []governance.Claim) *claimsOutput {
	out := &claimsOutput{}
	out.Body.Claims = nonNil(cs)
	return out
}

func (s *Server) myClaims(ctx context.Context, _ *struct{}) (*claimsOutput, error) {
	cs, err := s.deps.Governance.Claims(ctx, governance.ClaimFilter{AccountID: PrincipalFrom(ctx).Account.ID})
	if err != nil {
		return nil, err
	}
	return claimsAnswer(cs), nil
}

type claimInput struct {
	Body struct {
		Name      string `json:"name" minLength:"1" maxLength:"64" doc:"The holder's name as on the document"`
		DocType   string `json:"doc_type" minLength:"1" maxLength:"32" doc:"Document type (id_card, passport, …)"`
		DocNumber string `json:"doc_number" minLength:"1" maxLength:"32"`
	}
}

type claimOutput struct{ Body governance.Claim }

func (s *Server) claimDocument(ctx context.Context, in *claimInput) (*claimOutput, error) {
	c, err := s.deps.Governance.ClaimDocument(ctx, PrincipalFrom(ctx).Account.ID, in.Body.Name, in.Body.DocType, in.Body.DocNumber)
	if err != nil {
		return nil, err
	}
	return &claimOutput{Body: c}, nil
}

type approvalInput struct {
	Body struct {
		ClaimID   int64 `json:"claim_id" minimum:"1" doc:"The caller's verified claim of the document"`
		AccountID int64 `json:"account_id" minimum:"1" doc:"The other account (its ID, as GET /api/v1/me shows it to its owner)"`
		Approved  bool  `json:"approved" doc:"true approves the account, false withdraws the approval"`
	}
}

type approvalOutput struct {
	Body struct {
		AccountID int64 `json:"account_id"`
		Approved  bool  `json:"approved"`
	}
}

func (s *Server) approveAccount(ctx context.Context, in *approvalInput) (*approvalOutput, error) {
	b := in.Body
	if err := s.deps.Governance.Approve(ctx, PrincipalFrom(ctx).Account.ID, b.ClaimID, b.AccountID, b.Approved); err != nil {
		return nil, err
	}
	out := &approvalOutput{}
	out.Body.AccountID, out.Body.Approved = b.AccountID, b.Approved
	return out, nil
}

type listClaimsInput struct {
	Status string `query:"status" enum:"pending,verified,rejected,revoked," doc:"One status; all if empty"`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
	Offset int    `query:"offset" minimum:"0" maximum:"1000000"`
}

func (s *Server) listClaims(ctx context.Context, in *listClaimsInput) (*claimsOutput, error) {
	cs, err := s.deps.Governance.Claims(ctx, governance.ClaimFilter{Status: governance.ClaimStatus(in.Status), Limit: in.Limit, Offset: in.Offset})
	if err != nil {
		return nil, err
	}
	return claimsAnswer(cs), nil
}

type decideInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Claim ID"`
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"500" doc:"Why: what evidence was checked"`
	}
}

func (s *Server) decideClaim(ctx context.Context, in *decideInput, decide func(context.Context, int64, string, string) (governance.Claim, error)) (*claimOutput, error) {
	c, err := decide(ctx, in.ID, in.Body.Reason, actor(ctx))
	if err != nil {
		return nil, err
	}
	return &claimOutput{Body: c}, nil
}

func (s *Server) verifyClaim(ctx context.Context, in *decideInput) (*claimOutput, error) {
	return s.decideClaim(ctx, in, s.deps.Governance.VerifyClaim)
}

func (s *Server) rejectClaim(ctx context.Context, in *decideInput) (*claimOutput, error) {
	return s.decideClaim(ctx, in, s.deps.Governance.RejectClaim)
}

func (s *Server) revokeClaim(ctx context.Context, in *decideInput) (*claimOutput, error) {
	return s.decideClaim(ctx, in, s.deps.Governance.RevokeClaim)
}
