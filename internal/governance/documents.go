package governance

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/realname"
)

// Document ownership keeps the per-passenger cancel limit (G2) from being a
// weapon: counted across every account, it lets anyone who knows a
// stranger's ID number ban that stranger for the day by booking and
// cancelling with it. So a document's holder may claim it; once an operator
// verifies the claim, only the holder's account and the accounts the holder
// approved may book the document, and only their cancels count against it.
// Until then every account that used the document counts, as the paper
// proposes, so one person on many accounts is still caught.

// Ownership is who may book a document and whose cancels count against it.
type Ownership struct {
	// Holder is the account of the document's verified holder, 0 if none.
	Holder int64 `json:"holder,omitempty"`
	// Approved lists the other accounts the holder approved.
	Approved []int64 `json:"approved,omitempty"`
}

// Verified reports whether the document has a verified holder.
func (o Ownership) Verified() bool { return o.Holder != 0 }

// Admits reports whether an account may book the document and its cancels
// count against it: any account while no holder is verified, afterwards the
// holder and the accounts the holder approved.
func (o Ownership) Admits(account int64) bool {
	return o.Holder == 0 || o.Holder == account || slices.Contains(o.Approved, account)
}

// Count is the document's count: the sum of the counts of the accounts it
// admits.
func (o Ownership) Count(byAccount map[int64]Counts) Counts {
	var c Counts
	for acct, n := range byAccount {
		if o.Admits(acct) {
			c.Manual += n.Manual
			c.Expired += n.Expired
		}
	}
	return c
}

// NotApprovedError refuses booking passenger index (0-based, masked name)
// whose verified holder has not approved the booking account.
func NotApprovedError(index int, name string) error {
	return fault.Newf(fault.Forbidden, "passenger_not_approved",
		"第 %d 位乘客（%s）的证件已由本人核验，本账号未获其同意，不能为其订票；请乘客本人在「我的证件」中同意本账号",
		"passenger %d (%s) has verified their document and has not approved this account; ask them to approve it under My documents",
		index+1, name)
}

// ClaimStatus is where a claim of holding a document stands.
type ClaimStatus string

// Claim statuses.
const (
	ClaimPending  ClaimStatus = "pending"  // waits for an operator
	ClaimVerified ClaimStatus = "verified" // the account is the document's holder
	ClaimRejected ClaimStatus = "rejected" // the operator refused it
	ClaimRevoked  ClaimStatus = "revoked"  // verified once, withdrawn by an operator
)

// Valid reports whether the status is known.
func (s ClaimStatus) Valid() bool {
	switch s {
	case ClaimPending, ClaimVerified, ClaimRejected, ClaimRevoked:
		return true
	}
	return false
}

// Claim is an account's claim of holding a travel document.
type Claim struct {
	ID        int64       `json:"id"`
	AccountID int64       `json:"account_id"`
	DocType   string      `json:"doc_type"`
	DocNumber string      `json:"doc_number"`
	Name      string      `json:"name"`
	Status    ClaimStatus `json:"status"`
	CreatedAt time.Time   `json:"created_at"`
	DecidedAt *time.Time  `json:"decided_at,omitempty"`
	DecidedBy string      `json:"decided_by,omitempty"`
	Reason    string      `json:"reason,omitempty"`
}

// Masked is the claim with its document number and name masked, as the
// audit trail shows it (the number as realname masks every document).
func (c Claim) Masked() Claim {
	c.DocNumber = realname.Passenger{DocType: realname.DocType(c.DocType), DocNumber: c.DocNumber}.Masked()
	c.Name = realname.MaskName(c.Name)
	return c
}

// Subject names the claim in the audit trail.
func (c Claim) Subject() string { return "document_claim:" + strconv.FormatInt(c.ID, 10) }

// ClaimFilter selects claims.
type ClaimFilter struct {
	Status    ClaimStatus // "" for every status
	AccountID int64       // 0 for every account
	Limit     int         // default 100, at most 1000
	Offset    int
}

// LinkedDocument is one document on an account's passenger list.
type LinkedDocument struct {
	DocType   string    `json:"doc_type"`
	DocNumber string    `json:"doc_number"`
	AddedAt   time.Time `json:"added_at"`
	// Holder is the verified holder's account (0: not verified).
	Holder int64 `json:"-"`
	// Approved is set when this account is the holder or the holder
	// approved it.
	Approved bool `json:"-"`
	// Standing says what this account may do with the document:
	// "unverified" (any account may book it), "holder", "approved", or
	// "not_approved" (its holder has not approved this account).
	Standing string `json:"standing"`
}

// DocumentStore keeps the passenger lists, claims and per-account document
// counts.
type DocumentStore interface {
	// Ownership returns a document's verified holder and approved accounts.
	Ownership(ctx context.Context, docType, docNumber string) (Ownership, error)
	// VerifiedDocuments returns the ownership of every document with a
	// verified holder, by "TYPE:NUMBER" (behaviour.Transaction.Passenger).
	VerifiedDocuments(ctx context.Context) (map[string]Ownership, error)
	// DocumentDayCounts returns a document's counts on a service day by
	// booking account; accounts with none are absent.
	DocumentDayCounts(ctx context.Context, day network.Date, docType, docNumber string) (map[int64]Counts, error)
	// AccountDocuments lists an account's passenger list, oldest first,
	// with each document's holder and whether this account is approved.
	AccountDocuments(ctx context.Context, accountID int64) ([]LinkedDocument, error)
	// SetApproval links a document to an account if it is not, and sets
	// (at non-nil) or clears its approval by the holder.
	SetApproval(ctx context.Context, accountID int64, docType, docNumber string, at *time.Time) error

	// AddClaim stores a pending claim, setting its ID; it answers
	// ErrClaimOpen when the account has one open for the document.
	AddClaim(ctx context.Context, c *Claim) error
	// Claims lists claims newest first.
	Claims(ctx context.Context, f ClaimFilter) ([]Claim, error)
	// Claim returns one claim (ErrClaimNotFound if none).
	Claim(ctx context.Context, id int64) (Claim, error)
	// DecideClaim moves a claim from status from to c.Status with its
	// decision fields, reporting false if it was not in from. Verifying
	// makes c's account the holder: earlier approvals of the document are
	// cleared and the holder's own link is approved. It answers
	// ErrAlreadyVerified when another account holds the document.
	DecideClaim(ctx context.Context, from ClaimStatus, c Claim) (bool, error)
}

// Errors the stores answer for claims.
var (
	ErrClaimNotFound   = fault.New(fault.NotFound, "claim_not_found", "证件核验申请不存在", "document claim not found")
	ErrClaimOpen       = fault.New(fault.Conflict, "claim_open", "您已提交该证件的核验申请，请等待审核", "you have a claim for this document waiting for review")
	ErrAlreadyVerified = fault.New(fault.Conflict, "document_already_verified", "该证件已由其他账号核验；如有异议请联系客服", "another account has verified this document; contact support to dispute it")
)

// MaxOpenClaims is how many claims one account may have waiting at once.
const MaxOpenClaims = 5

// ClaimDocument files an account's claim of holding a document; an operator
// verifies or rejects it.
func (s *Service) ClaimDocument(ctx context.Context, accountID int64, name, docType, docNumber string) (Claim, error) {
	p, err := realname.Passenger{Name: name, DocType: realname.DocType(docType), DocNumber: docNumber}.Validate()
	if err != nil {
		return Claim{}, err
	}
	own, err := s.store.Ownership(ctx, string(p.DocType), p.DocNumber)
	if err != nil {
		return Claim{}, err
	}
	if own.Holder == accountID {
		return Claim{}, fault.New(fault.Conflict, "already_holder", "您已核验该证件", "you have verified this document already")
	}
	open, err := s.store.Claims(ctx, ClaimFilter{Status: ClaimPending, AccountID: accountID, Limit: MaxOpenClaims})
	if err != nil {
		return Claim{}, err
	}
	if len(open) >= MaxOpenClaims {
		return Claim{}, fault.Newf(fault.LimitReached, "too_many_claims", "最多同时有 %d 个待审核的证件核验申请", "at most %d document claims may wait for review at once", MaxOpenClaims)
	}
	c := Claim{AccountID: accountID, DocType: string(p.DocType), DocNumber: p.DocNumber, Name: p.Name, Status: ClaimPending, CreatedAt: s.cfg.Now()}
	if err := s.store.AddClaim(ctx, &c); err != nil {
		return Claim{}, err
	}
	return c, nil
}

// Claims lists claims for review, or an account's own.
func (s *Service) Claims(ctx context.Context, f ClaimFilter) ([]Claim, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, fault.Newf(fault.Invalid, "bad_claim_status", "没有状态 %q", "there is no claim status %q", f.Status)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	return s.store.Claims(ctx, f)
}

// ClaimByID returns one claim.
func (s *Service) ClaimByID(ctx context.Context, id int64) (Claim, error) {
	return s.store.Claim(ctx, id)
}

// VerifyClaim makes a pending claim's account the document's verified
// holder. From then on only the holder and the accounts it approves may
// book the document and count against it, for today's earlier cancels too;
// list memberships the rules gave the document are lifted, since other
// accounts' cancels fed them (the rules add it again if the holder's own
// bookings match). The decision is audited as "document.verify".
func (s *Service) VerifyClaim(ctx context.Context, id int64, reason, actor string) (Claim, error) {
	c, err := s.decide(ctx, id, ClaimPending, ClaimVerified, reason, actor, "document.verify")
	if err != nil {
		return Claim{}, err
	}
	if err := s.liftRuleMemberships(ctx, DocumentSubject(c.DocType, c.DocNumber), actor,
		"证件已由本人核验，其他账号的取消不再计入 document verified: other accounts' cancels no longer count"); err != nil {
		return c, err
	}
	return c, nil
}

// RejectClaim refuses a pending claim, audited as "document.reject".
func (s *Service) RejectClaim(ctx context.Context, id int64, reason, actor string) (Claim, error) {
	return s.decide(ctx, id, ClaimPending, ClaimRejected, reason, actor, "document.reject")
}

// RevokeClaim withdraws a verified holder (a claim verified in error), so
// the document is unverified again; audited as "document.revoke".
func (s *Service) RevokeClaim(ctx context.Context, id int64, reason, actor string) (Claim, error) {
	return s.decide(ctx, id, ClaimVerified, ClaimRevoked, reason, actor, "document.revoke")
}

func (s *Service) decide(ctx context.Context, id int64, from, to ClaimStatus, reason, actor, action string) (Claim, error) {
	reason, err := needReason(reason)
	if err != nil {
		return Claim{}, err
	}
	before, err := s.store.Claim(ctx, id)
	if err != nil {
		return Claim{}, err
	}
	if before.Status != from {
		return Claim{}, errClaimNot(id, from)
	}
	now := s.cfg.Now()
	c := before
	c.Status, c.DecidedAt, c.DecidedBy, c.Reason = to, &now, actor, reason
	ok, err := s.store.DecideClaim(ctx, from, c)
	if err != nil {
		return Claim{}, err
	}
	if !ok {
		return Claim{}, errClaimNot(id, from)
	}
	s.cache.Store(nil)
	if err := s.cfg.Audit.Record(ctx, action, c.Subject(), before.Masked(), c.Masked(), reason); err != nil {
		return c, err
	}
	return c, nil
}

func errClaimNot(id int64, st ClaimStatus) error {
	zh := map[ClaimStatus]string{ClaimPending: "待审核", ClaimVerified: "已核验"}[st]
	return fault.New(fault.Conflict, "claim_not_"+string(st),
		fmt.Sprintf("证件核验申请 %d 不是%s状态", id, zh), fmt.Sprintf("document claim %d is not %s", id, st))
}

// liftRuleMemberships lifts a subject's memberships in force that the list
// rules made; operators' own memberships stand.
func (s *Service) liftRuleMemberships(ctx context.Context, subject, actor, reason string) error {
	now := s.cfg.Now()
	ms, err := s.store.Members(ctx, MemberFilter{Subject: subject, ActiveAt: now, Limit: 1000})
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Source != ByRule {
			continue
		}
		if _, err := s.store.LiftMember(ctx, m.ID, now, actor, reason, Audit{MemberID: m.ID, At: now, Actor: actor, Action: "lift", Detail: reason}); err != nil {
			return err
		}
	}
	s.cache.Store(nil)
	return nil
}

// PassengerList returns an account's passenger list with what the account
// may do with each document.
func (s *Service) PassengerList(ctx context.Context, accountID int64) ([]LinkedDocument, error) {
	docs, err := s.store.AccountDocuments(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for i, d := range docs {
		switch {
		case d.Holder == 0:
			docs[i].Standing = "unverified"
		case d.Holder == accountID:
			docs[i].Standing = "holder"
		case d.Approved:
			docs[i].Standing = "approved"
		default:
			docs[i].Standing = "not_approved"
		}
	}
	return docs, nil
}

// Approve lets the holder of a verified document, named by the holder's
// verified claim, approve another account to book it (approved true) or
// withdraw that approval (false). Either way the other account's cancels
// of the document count again, or stop counting, for the whole day.
func (s *Service) Approve(ctx context.Context, holder, claimID, account int64, approved bool) error {
	c, err := s.store.Claim(ctx, claimID)
	if err != nil && fault.CodeOf(err) != fault.NotFound {
		return err
	}
	if err != nil || c.AccountID != holder || c.Status != ClaimVerified {
		return fault.New(fault.Forbidden, "not_document_holder", "您不是该证件的核验持有人，请先申请核验", "you are not this document's verified holder: claim it first")
	}
	if account == holder || account <= 0 {
		return fault.New(fault.Invalid, "bad_account", "请填写要同意的其他账号", "name another account to approve")
	}
	var at *time.Time
	if approved {
		now := s.cfg.Now()
		at = &now
	}
	return s.store.SetApproval(ctx, account, c.DocType, c.DocNumber, at)
}

// documentCounts is a document's day counts from the accounts that count.
func (s *Service) documentCounts(ctx context.Context, day network.Date, docType, docNumber string) (Counts, error) {
	own, err := s.store.Ownership(ctx, docType, docNumber)
	if err != nil {
		return Counts{}, err
	}
	by, err := s.store.DocumentDayCounts(ctx, day, docType, docNumber)
	if err != nil {
		return Counts{}, err
	}
	return own.Count(by), nil
}
