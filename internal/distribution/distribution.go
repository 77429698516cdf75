// Package distribution hands a campaign's tickets to people (SPEC V3, B2):
// to uploaded lists of phone numbers or accounts, issued at once through
// the benefits service's direct channel; as batches of redemption codes;
// and through the campaign's claim link. What was not delivered can be
// taken back: a list's tickets nobody used, gifted or let expire are
// revoked, a batch's codes nobody redeemed are voided.
//
// Every call takes the caller's tenant.Scope: a merchant reaches its own
// campaigns, lists and batches only, and another merchant's are not found.
package distribution

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/tenant"
)

// List is one uploaded list of recipients of a campaign's tickets.
type List struct {
	ID int64 `json:"id"`
	// MerchantID owns the list: the campaign's merchant (0 for the operator's).
	MerchantID int64     `json:"merchant_id"`
	CampaignID int64     `json:"campaign_id"`
	Kind       Kind      `json:"kind"`
	UploadedBy string    `json:"uploaded_by"`
	UploadedAt time.Time `json:"uploaded_at"`
	// Entries counts the list's lines; Issued those that got a ticket,
	// Refused those the campaign refused, Revoked the tickets taken back.
	Entries int `json:"entries"`
	Issued  int `json:"issued"`
	Refused int `json:"refused"`
	Revoked int `json:"revoked"`
	// Pending is set while the list's issue is not recorded yet: an
	// upload stopped between issuing and recording (Issued+Refused <
	// Entries). Reading or revoking the list finishes it with the same
	// per-line issue keys, so no line gets a second ticket.
	Pending bool `json:"pending,omitempty"`
}

// Entry is one line of a list and its outcome.
type Entry struct {
	Line    int    `json:"line"`
	Account int64  `json:"account"`
	Phone   string `json:"phone,omitempty"` // for a phone list; answers mask it
	Note    string `json:"note,omitempty"`
	// TicketID is the ticket issued, or 0 with Reason and Message saying
	// why the campaign refused (per_user_limit, sold_out…).
	TicketID  int64     `json:"ticket_id,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Message   string    `json:"message,omitempty"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Recipient is an account a list line names, as far as issuing cares.
type Recipient struct {
	Account  int64
	Role     identity.Role
	Disabled bool
}

// Outcome is what revoking one issued ticket found.
type Outcome string

// Revocation outcomes: only Revoke takes the ticket back.
const (
	Revoke         Outcome = "revoked"
	Used           Outcome = "used"            // a ride was taken with it
	Gifted         Outcome = "gifted"          // offered or given to someone else
	Lapsed         Outcome = "expired"         // past its validity
	AlreadyRevoked Outcome = "already_revoked" // revoked before
)

// Verdict says what revoking ticket t, issued to account by a list, does
// at now: a ticket still held by that account, with every ride left and
// within its validity, is revoked; anything else was delivered (used,
// gifted) or is past use, and stays as it is.
func Verdict(t benefits.Ticket, account int64, now time.Time) Outcome {
	switch {
	case t.State == benefits.Revoked:
		return AlreadyRevoked
	case t.State == benefits.Consumed || t.RidesLeft < t.RidesTotal:
		return Used
	case t.State == benefits.Gifting || t.Holder != account:
		return Gifted
	case !now.Before(t.Window.Until):
		return Lapsed
	}
	return Revoke
}

// Revocation counts what revoking a list (or one line of it) found.
type Revocation struct {
	ListID  int64 `json:"list_id"`
	Line    int   `json:"line,omitempty"` // the one line revoked, if only one
	Revoked int   `json:"revoked"`
	Used    int   `json:"used"`
	Gifted  int   `json:"gifted"`
	Expired int   `json:"expired"`
	// Already counts tickets revoked before; NotIssued lines that got none.
	Already   int `json:"already_revoked"`
	NotIssued int `json:"not_issued"`
}

// Count adds one ticket's outcome.
func (r *Revocation) Count(o Outcome) {
	switch o {
	case Revoke:
		r.Revoked++
	case Used:
		r.Used++
	case Gifted:
		r.Gifted++
	case Lapsed:
		r.Expired++
	case AlreadyRevoked:
		r.Already++
	}
}

// Batch is a code batch with how many of its codes were voided.
type Batch struct {
	benefits.CodeBatch
	Revoked   int       `json:"revoked"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Store keeps lists and their entries, and takes back what they and code
// batches delivered. Each method is one transaction; every method that
// reads or changes a merchant's rows takes its scope, and rows outside it
// are not found.
type Store interface {
	// Recipients finds the accounts whose phones (plain numbers, looked up
	// by their blind index) or IDs are given; missing ones are absent
	// from the maps.
	Recipients(ctx context.Context, phones []string, accounts []int64) (byPhone map[string]Recipient, byID map[int64]Recipient, err error)
	// CreateList stores a list and its entries, pending (outcomes not yet
	// known), setting l.ID.
	CreateList(ctx context.Context, l *List, entries []Entry) error
	// SetOutcomes records the entries' tickets or refusals, by line, and
	// the list's counters, which finishes a pending list. A line that has
	// a ticket keeps it (a late or concurrent finish never unrecords a
	// ticket); finished reports whether this call finished the list.
	SetOutcomes(ctx context.Context, listID int64, entries []Entry) (l List, finished bool, err error)
	// Lists lists the scope's lists, newest first; campaignID 0 for all.
	Lists(ctx context.Context, scope tenant.Scope, campaignID int64) ([]List, error)
	// List returns one list.
	List(ctx context.Context, scope tenant.Scope, id int64) (List, error)
	// Entries returns a list's entries in line order.
	Entries(ctx context.Context, scope tenant.Scope, listID int64) ([]Entry, error)
	// RevokeList revokes, by Verdict at now, the tickets a list issued
	// (only line's when line > 0) that were not revoked yet, locking them
	// so that a concurrent ride either uses a ticket or finds it revoked.
	RevokeList(ctx context.Context, scope tenant.Scope, listID int64, line int, now time.Time) (Revocation, error)

	// CodeBatches lists a campaign's code batches within the scope.
	CodeBatches(ctx context.Context, scope tenant.Scope, campaignID int64) ([]Batch, error)
	// CodeBatch returns one batch within the scope.
	CodeBatch(ctx context.Context, scope tenant.Scope, id int64) (Batch, error)
	// RevokeCodes voids every code of a batch not yet redeemed, at now,
	// and says how many it voided. A code being redeemed concurrently is
	// either redeemed or voided.
	RevokeCodes(ctx context.Context, scope tenant.Scope, batchID int64, now time.Time) (Batch, int, error)
}

// Config configures the service.
type Config struct {
	// Benefits issues the tickets and makes the codes.
	Benefits *benefits.Service
	// Audit records uploads and revocations.
	Audit *audit.Log
	Now   func() time.Time
}

// Service distributes merchants' tickets.
type Service struct {
	store Store
	cfg   Config
}

// NewService returns the service.
func NewService(st Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: st, cfg: cfg}
}

// ErrNotRunning is what callers answer while distribution is off.
var ErrNotRunning = fault.New(fault.Unavailable, "distribution_unavailable", "票券分发服务未运行", "ticket distribution is not running")

// ErrCampaignNotFound answers a campaign outside the caller's scope as if
// it did not exist.
var ErrCampaignNotFound = fault.New(fault.NotFound, "campaign_not_found", "活动不存在", "campaign not found")

// Campaign returns a campaign of the scope.
func (s *Service) Campaign(ctx context.Context, scope tenant.Scope, id int64) (benefits.Campaign, error) {
	c, err := s.cfg.Benefits.Campaign(ctx, scope, id)
	if err == nil && !scope.SeesOwner(c.Owner) { // the store filters; this says so here too
		return benefits.Campaign{}, ErrCampaignNotFound
	}
	return c, err
}

// Upload checks a roster (see ParseRoster) and the accounts it names —
// every phone must be a passenger's, every account a passenger — and,
// only if every line is right and the campaign is issuing directly,
// stores it and issues one ticket of the campaign to each line through
// the direct channel.
// Each entry keeps its ticket or why the campaign refused it. A bad
// roster is a *RosterError naming each bad line and column, and nothing
// is stored or issued.
//
// Storing, issuing and recording are three transactions. The list and its
// entries are stored first, pending; each line is issued with its own key
// (issueKey), so issuing again answers the ticket issued before; then the
// outcomes are recorded, which finishes the list. Once the list is stored
// the upload has happened: if issuing or recording fails (or the process
// stops) the answer is the list still Pending, not an error, and the next
// read or revocation of it finishes it (finishPending) — never a second
// list a retrying client would make.
func (s *Service) Upload(ctx context.Context, scope tenant.Scope, campaignID int64, data []byte, actor string) (List, []Entry, error) {
	c, err := s.Campaign(ctx, scope, campaignID)
	if err != nil {
		return List{}, nil, err
	}
	// A campaign that would refuse every line refuses the list: not
	// running, not issuing directly, or sold out.
	if err := c.CheckIssue(s.cfg.Now(), benefits.DirectChannel, 0); err != nil {
		return List{}, nil, err
	}
	if len(data) > MaxBytes {
		return List{}, nil, fault.Newf(fault.Invalid, "list_too_large", "名单文件不能超过 %d MiB", "a list file is at most %d MiB", MaxBytes>>20)
	}
	// Every line is checked, the accounts of those well formed too, so
	// that one refusal names every error.
	var e errs
	kind, rows := parseRoster(data, &e)
	var entries []Entry
	if kind != "" {
		if entries, err = s.resolve(ctx, kind, rows, &e); err != nil {
			return List{}, nil, err
		}
	}
	if err := e.err(); err != nil {
		return List{}, nil, err
	}
	merchant, _ := tenant.MerchantOf(c.Owner)
	l := List{MerchantID: merchant, CampaignID: c.ID, Kind: kind, UploadedBy: actor, UploadedAt: s.cfg.Now(), Entries: len(entries)}
	if err := s.store.CreateList(ctx, &l, entries); err != nil {
		return List{}, nil, err
	}
	l.Pending = l.Entries > 0
	// The list is stored: finish it even if the caller goes away.
	ctx = context.WithoutCancel(ctx)
	done, err := s.finish(ctx, l, entries, "")
	if err != nil {
		// A pending list is finished by its next read; an error here
		// would only invite the client to upload it again.
		// (If only the audit failed, done is the finished list.)
		slog.ErrorContext(ctx, "finish distribution list (if not recorded, it stays pending until read)", "list", l.ID, "err", err.Error())
	}
	return done, entries, nil
}

// finish issues a list's tickets — one per entry, keyed by line so that a
// line issued before answers its ticket again — records the outcomes in
// entries and on the list, and audits the issue if this call finished
// it. reason says why, for a list finished after its upload stopped.
func (s *Service) finish(ctx context.Context, l List, entries []Entry, reason string) (List, error) {
	reqs := make([]benefits.IssueRequest, len(entries))
	for i, e := range entries {
		reqs[i] = benefits.IssueRequest{CampaignID: l.CampaignID, Account: e.Account, Channel: benefits.DirectChannel, Key: issueKey(l.ID, e.Line)}
	}
	res, err := s.cfg.Benefits.Issue(ctx, s.cfg.Now(), reqs)
	if err != nil {
		return l, err
	}
	for i, r := range res {
		entries[i].TicketID, entries[i].Reason, entries[i].Message = 0, "", ""
		if r.Err != nil {
			fe := fault.As(r.Err)
			entries[i].Reason, entries[i].Message = fe.Reason, fe.ZH+" / "+fe.EN
			continue
		}
		entries[i].TicketID = r.Ticket.ID
	}
	done, finished, err := s.store.SetOutcomes(ctx, l.ID, entries)
	if err != nil {
		return l, err
	}
	if !finished {
		return done, nil
	}
	// Counts only: the list's phones stay out of the trail.
	after := map[string]any{"campaign_id": done.CampaignID, "kind": done.Kind, "entries": done.Entries, "issued": done.Issued, "refused": done.Refused, "uploaded_by": done.UploadedBy}
	return done, s.cfg.Audit.Record(ctx, "distribution.list.issue", listSubject(done.ID), nil, after, reason)
}

// resumed is the audit reason of a list finished after its upload stopped.
const resumed = "finished on read: the upload stopped before recording the outcomes"

// finishPending finishes l if it is pending (see Upload), reissuing
// with the same keys, and returns it as recorded.
func (s *Service) finishPending(ctx context.Context, scope tenant.Scope, l List) (List, error) {
	if !l.Pending {
		return l, nil
	}
	es, err := s.store.Entries(ctx, scope, l.ID)
	if err != nil {
		return l, err
	}
	return s.finish(context.WithoutCancel(ctx), l, es, resumed)
}

func issueKey(list int64, line int) string { return fmt.Sprintf("distribution:%d:%d", list, line) }

func listSubject(id int64) string { return "distribution_list:" + strconv.FormatInt(id, 10) }

// resolve turns roster rows into entries, adding to e each line that
// names nobody or someone who is not an active passenger.
func (s *Service) resolve(ctx context.Context, kind Kind, rows []Row, e *errs) ([]Entry, error) {
	var phones []string
	var ids []int64
	for _, r := range rows {
		if kind == ByPhone {
			phones = append(phones, r.Phone)
		} else {
			ids = append(ids, r.Account)
		}
	}
	byPhone, byID, err := s.store.Recipients(ctx, phones, ids)
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, 0, len(rows))
	seen := map[int64]int{} // an account named twice (two phones cannot, but be sure)
	for _, r := range rows {
		col := string(kind)
		rc, ok := byID[r.Account]
		if kind == ByPhone {
			rc, ok = byPhone[r.Phone]
		}
		switch {
		case !ok && kind == ByPhone:
			e.add(r.Line, col, "没有乘客账号使用该手机号", "no passenger account has this phone number")
			continue
		case !ok:
			e.add(r.Line, col, "账号不存在", "no such account")
			continue
		case rc.Role != identity.Passenger:
			e.add(r.Line, col, "该账号不是乘客账号", "the account is not a passenger's")
			continue
		case rc.Disabled:
			e.add(r.Line, col, "该账号已停用", "the account is disabled")
			continue
		case seen[rc.Account] > 0:
			e.addf(r.Line, col, "与第 %d 行是同一账号", "the same account as line %d", seen[rc.Account])
			continue
		}
		seen[rc.Account] = r.Line
		entries = append(entries, Entry{Line: r.Line, Account: rc.Account, Phone: r.Phone, Note: r.Note})
	}
	return entries, nil
}

// Lists lists the scope's lists, newest first; campaignID 0 for all.
// A pending list among them is finished first.
func (s *Service) Lists(ctx context.Context, scope tenant.Scope, campaignID int64) ([]List, error) {
	ls, err := s.store.Lists(ctx, scope, campaignID)
	if err != nil {
		return nil, err
	}
	for i := range ls {
		if ls[i], err = s.finishPending(ctx, scope, ls[i]); err != nil {
			return nil, err
		}
	}
	return ls, nil
}

// List returns a list of the scope with its entries, finishing it first
// if it is pending.
func (s *Service) List(ctx context.Context, scope tenant.Scope, id int64) (List, []Entry, error) {
	l, err := s.store.List(ctx, scope, id)
	if err != nil {
		return List{}, nil, err
	}
	if l, err = s.finishPending(ctx, scope, l); err != nil {
		return List{}, nil, err
	}
	es, err := s.store.Entries(ctx, scope, id)
	return l, es, err
}

// RevokeList takes back the tickets a list issued that were not
// delivered: still held by their recipient, unused, not gifted and valid
// (only line's when line > 0). Revoked tickets are never usable again and
// show as revoked in the wallet; the answer counts each outcome. A
// pending list is finished first, so that every ticket it issued is
// recorded and can be revoked.
func (s *Service) RevokeList(ctx context.Context, scope tenant.Scope, id int64, line int, actor, reason string) (Revocation, error) {
	if line < 0 {
		return Revocation{}, fault.New(fault.Invalid, "bad_line", "行号无效", "bad line number")
	}
	l, err := s.store.List(ctx, scope, id)
	if err != nil {
		return Revocation{}, err
	}
	if _, err := s.finishPending(ctx, scope, l); err != nil {
		return Revocation{}, err
	}
	r, err := s.store.RevokeList(ctx, scope, id, line, s.cfg.Now())
	if err != nil {
		return Revocation{}, err
	}
	if r.Revoked > 0 {
		if err := s.cfg.Audit.Record(ctx, "distribution.list.revoke", listSubject(id), nil, r, reason); err != nil {
			return Revocation{}, err
		}
	}
	return r, nil
}

// GenerateCodes makes a batch of n codes for a campaign of the scope.
func (s *Service) GenerateCodes(ctx context.Context, scope tenant.Scope, campaignID int64, n int, actor string) (benefits.CodeBatch, error) {
	if _, err := s.Campaign(ctx, scope, campaignID); err != nil {
		return benefits.CodeBatch{}, err
	}
	return s.cfg.Benefits.GenerateCodes(ctx, scope, campaignID, n, actor)
}

// CodeBatches lists the code batches of a campaign of the scope.
func (s *Service) CodeBatches(ctx context.Context, scope tenant.Scope, campaignID int64) ([]Batch, error) {
	if _, err := s.Campaign(ctx, scope, campaignID); err != nil {
		return nil, err
	}
	return s.store.CodeBatches(ctx, scope, campaignID)
}

// Codes calls fn for every code of a batch of the scope.
func (s *Service) Codes(ctx context.Context, scope tenant.Scope, batchID int64, fn func(benefits.CodeRow) error) error {
	if _, err := s.store.CodeBatch(ctx, scope, batchID); err != nil {
		return err
	}
	return s.cfg.Benefits.Codes(ctx, scope, batchID, fn)
}

// RevokeCodes voids every code of a batch of the scope not yet redeemed:
// redeeming one then answers code_revoked; redeemed codes and their
// tickets stay. It says how many codes it voided.
func (s *Service) RevokeCodes(ctx context.Context, scope tenant.Scope, batchID int64, actor, reason string) (Batch, int, error) {
	b, n, err := s.store.RevokeCodes(ctx, scope, batchID, s.cfg.Now())
	if err != nil {
		return Batch{}, 0, err
	}
	if n > 0 {
		after := map[string]any{"campaign_id": b.CampaignID, "voided": n, "redeemed": b.Redeemed}
		if err := s.cfg.Audit.Record(ctx, "distribution.codes.revoke", "code_batch:"+strconv.FormatInt(batchID, 10), nil, after, reason); err != nil {
			return Batch{}, 0, err
		}
	}
	return b, n, nil
}

// ClaimCampaign returns a campaign of the scope that issues by claiming,
// for its claim link and poster.
func (s *Service) ClaimCampaign(ctx context.Context, scope tenant.Scope, id int64) (benefits.Campaign, error) {
	c, err := s.Campaign(ctx, scope, id)
	if err != nil {
		return c, err
	}
	for _, ch := range c.Channels {
		if ch == benefits.ClaimChannel {
			return c, nil
		}
	}
	return benefits.Campaign{}, fault.New(fault.Conflict, "channel_closed", "该活动未开放领取，没有领取链接", "the campaign does not issue by claiming: it has no claim link")
}

// ClaimPath is the H5 page where passengers claim a campaign's tickets.
func ClaimPath(campaignID int64) string { return "/h5/campaigns/" + strconv.FormatInt(campaignID, 10) }
