package merchant

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"piao/internal/audit"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/tenant"
	"piao/internal/upload"
)

// Service runs onboarding: applications, review, suspension and the
// merchant admin's staff.
type Service struct {
	Store Store
	// Identity makes the merchant's accounts, hashes passwords, disables
	// accounts and ends their sessions.
	Identity *identity.Service
	Audit    *audit.Log
	Now      func() time.Time
	// InvitationTTL is how long a staff invitation may be accepted.
	InvitationTTL time.Duration
}

// NewService returns a service with the production defaults (invitations
// last 7 days).
func NewService(s Store, ids *identity.Service, log *audit.Log, now func() time.Time) *Service {
	return &Service{Store: s, Identity: ids, Audit: log, Now: now, InvitationTTL: 7 * 24 * time.Hour}
}

// Application is what a merchant submits to apply.
type Application struct {
	LegalName     string
	CreditCode    string
	Contact       Contact
	AdminUsername string
	AdminPassword string
	Papers        []Upload
	// Kind is the organisation applying: a merchant (the default) or an
	// employer.
	Kind Kind
}

// Receipt is an application stored: the merchant and the applicant token
// that lets the applicant follow it, shown this once.
type Receipt struct {
	Merchant Merchant `json:"merchant"`
	Token    string   `json:"token" doc:"The applicant token: send it in the X-Applicant-Token header to follow the application. Shown once."`
}

// Dossier is a merchant with its papers (without their bytes) and events.
type Dossier struct {
	Merchant Merchant `json:"merchant"`
	Papers   []Paper  `json:"papers"`
	Events   []Event  `json:"events"`
}

func invalid(reason, zh, en string) error { return fault.New(fault.Invalid, reason, zh, en) }

// checkText trims s and checks its length in characters.
func checkText(s string, minLen, maxLen int, reason, zh, en string) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n < minLen || n > maxLen || !utf8.ValidString(s) {
		return s, invalid(reason, zh, en)
	}
	return s, nil
}

func validPhone(p string) bool {
	if len(p) != 11 || p[0] != '1' {
		return false
	}
	for i := range len(p) {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// checkUsername checks a login name the way identity does, and that no
// account holds it yet.
func (s *Service) checkUsername(ctx context.Context, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n@") || !utf8.ValidString(name) {
		return name, invalid("bad_username", "用户名须为 1–64 个字符，不含空格和 @", "a username is 1–64 characters without spaces or @")
	}
	// A username of digits only would be looked up as a phone number too:
	// the answer would tell a stranger whether someone has that phone, and
	// the login would shadow that person's login by phone.
	if strings.Trim(name, "0123456789+-") == "" {
		return name, invalid("numeric_username", "用户名不能只有数字（以免与手机号混淆）", "a username cannot be digits only (it would look like a phone number)")
	}
	_, err := s.Identity.Store.AccountByLogin(ctx, name)
	switch {
	case err == nil:
		return name, ErrUsernameTaken
	case fault.Is(err, fault.NotFound):
		return name, nil
	}
	return name, err
}

// checkPapers checks uploads against upload.Papers; an error names the
// paper by its position and name.
func (s *Service) checkPapers(uploads []Upload, at time.Time) ([]Paper, error) {
	out := make([]Paper, 0, len(uploads))
	for i, u := range uploads {
		if u.Kind != Licence && u.Kind != OtherPaper {
			return nil, fault.Newf(fault.Invalid, "bad_paper_kind", "第 %d 份材料的类型须为 licence 或 other", "paper %d: the kind is licence or other", i+1)
		}
		f, err := upload.Papers.Check(u.Name, u.Data)
		if err != nil {
			fe := fault.As(err)
			if fe == nil {
				return nil, err
			}
			name := upload.CleanName(u.Name)
			return nil, fault.New(fe.Code, fe.Reason, "第 "+strconv.Itoa(i+1)+" 份材料（"+name+"）："+fe.ZH, "paper "+strconv.Itoa(i+1)+" ("+name+"): "+fe.EN)
		}
		out = append(out, Paper{Kind: u.Kind, File: f, CreatedAt: at})
	}
	return out, nil
}

// newSecret returns a random token with prefix and the SHA-256 kept of it.
func newSecret(prefix string) (string, []byte, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fault.Wrap(err, "token entropy")
	}
	secret := prefix + base64.RawURLEncoding.EncodeToString(raw)
	return secret, hashSecret(secret), nil
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// actor names who acts for a merchant's events: the logged-in account,
// or else who (the applicant, the invitee).
func actor(ctx context.Context, who string) string {
	if a := audit.ActorFrom(ctx); a.AccountID != 0 {
		return a.String()
	}
	return who
}

// Apply checks an application and stores it with its papers: nothing is
// written if anything is wrong. The admin's password is hashed at once and
// the username must not be taken. It answers the applicant token, which
// only its hash is kept of.
func (s *Service) Apply(ctx context.Context, a Application) (Receipt, error) {
	var err error
	m := Merchant{Kind: KindMerchant, Status: Applied}
	if a.Kind != "" {
		if !a.Kind.Valid() {
			return Receipt{}, invalid("bad_kind", "机构类型应为 merchant（商户）或 employer（企业）", "the kind is merchant or employer")
		}
		m.Kind = a.Kind
	}
	if m.LegalName, err = checkText(a.LegalName, 2, 100, "bad_legal_name", "企业名称须为 2–100 个字符", "the legal name is 2–100 characters"); err != nil {
		return Receipt{}, err
	}
	if m.CreditCode, err = CheckCreditCode(a.CreditCode); err != nil {
		return Receipt{}, err
	}
	if m.Contact.Name, err = checkText(a.Contact.Name, 1, 50, "bad_contact_name", "联系人姓名须为 1–50 个字符", "the contact's name is 1–50 characters"); err != nil {
		return Receipt{}, err
	}
	m.Contact.Phone = strings.TrimSpace(a.Contact.Phone)
	if !validPhone(m.Contact.Phone) {
		return Receipt{}, invalid("bad_phone", "联系人手机号须为 11 位数字，以 1 开头", "the contact's phone number is 11 digits starting with 1")
	}
	if len(a.Papers) == 0 || !slices.ContainsFunc(a.Papers, func(u Upload) bool { return u.Kind == Licence }) {
		return Receipt{}, invalid("licence_required", "请上传营业执照", "upload the business licence")
	}
	if len(a.Papers) > MaxPapers {
		return Receipt{}, ErrTooManyPapers
	}
	now := s.Now()
	papers, err := s.checkPapers(a.Papers, now)
	if err != nil {
		return Receipt{}, err
	}
	if m.AdminUsername, err = s.checkUsername(ctx, a.AdminUsername); err != nil {
		return Receipt{}, err
	}
	if m.AdminPasswordHash, err = s.Identity.HashNewPassword(ctx, a.AdminPassword); err != nil {
		return Receipt{}, err
	}
	token, hash, err := newSecret("pma_")
	if err != nil {
		return Receipt{}, err
	}
	m.CreatedAt, m.UpdatedAt = now, now
	m, err = s.Store.CreateMerchant(ctx, m, papers, hash, Event{At: now, Actor: actor(ctx, "applicant"), To: Applied})
	if err != nil {
		return Receipt{}, err
	}
	after := map[string]any{"legal_name": m.LegalName, "credit_code": m.CreditCode, "admin_username": m.AdminUsername, "papers": len(papers)}
	if err := s.Audit.Record(ctx, "merchant.apply", m.Subject(), nil, after, ""); err != nil {
		return Receipt{}, err
	}
	return Receipt{Merchant: m, Token: token}, nil
}

// errApplicantToken is not found, not unauthorized: the routes are public
// and a wrong token names no application.
var errApplicantToken = fault.New(fault.NotFound, "application_not_found", "申请凭证无效：没有对应的申请", "the applicant token names no application")

// applicant returns the merchant an applicant token follows.
func (s *Service) applicant(ctx context.Context, token string) (int64, error) {
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(token, "pma_") || len(token) > 100 {
		return 0, errApplicantToken
	}
	id, err := s.Store.ApplicantMerchant(ctx, hashSecret(token))
	if fault.Is(err, fault.NotFound) {
		return 0, errApplicantToken
	}
	return id, err
}

// ApplicationStatus is the dossier of the application a token follows.
func (s *Service) ApplicationStatus(ctx context.Context, token string) (Dossier, error) {
	id, err := s.applicant(ctx, token)
	if err != nil {
		return Dossier{}, err
	}
	return s.Dossier(ctx, tenant.Merchant(id), id)
}

// AddPapers adds papers to the application a token follows, while it
// waits for review or for more papers.
func (s *Service) AddPapers(ctx context.Context, token string, uploads []Upload) ([]Paper, error) {
	id, err := s.applicant(ctx, token)
	if err != nil {
		return nil, err
	}
	scope := tenant.Merchant(id)
	m, err := s.Store.Merchant(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	if m.Status != Applied && m.Status != InfoRequested {
		return nil, fault.Newf(fault.Conflict, "merchant_status", "申请已结束审核（%s），不能再补充材料", "the application was decided (%s): papers can no longer be added", m.Status)
	}
	if len(uploads) == 0 {
		return nil, invalid("no_papers", "请至少上传一份材料", "upload at least one paper")
	}
	if len(uploads) > MaxPapers {
		return nil, ErrTooManyPapers
	}
	papers, err := s.checkPapers(uploads, s.Now())
	if err != nil {
		return nil, err
	}
	papers, err = s.Store.AddPapers(ctx, scope, id, papers, MaxPapers)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(papers))
	for i, p := range papers {
		names[i] = p.Name
	}
	return papers, s.Audit.Record(ctx, "merchant.papers.add", m.Subject(), nil, map[string]any{"papers": names}, "")
}

// ResubmitApplication sends the application a token follows back to
// review after the operator asked for more.
func (s *Service) ResubmitApplication(ctx context.Context, token, note string) (Merchant, error) {
	id, err := s.applicant(ctx, token)
	if err != nil {
		return Merchant{}, err
	}
	return s.change(ctx, tenant.Merchant(id), id, Resubmit, note, "applicant")
}

// Merchants lists the merchants scope sees in a status (empty: all),
// newest first.
func (s *Service) Merchants(ctx context.Context, scope tenant.Scope, status Status) ([]Merchant, error) {
	if status != "" && !status.Valid() {
		return nil, fault.Newf(fault.Invalid, "bad_status", "未知状态 %q", "unknown status %q", status)
	}
	return s.Store.Merchants(ctx, scope, Filter{Status: status, Limit: 500})
}

// Merchant returns one merchant.
func (s *Service) Merchant(ctx context.Context, scope tenant.Scope, id int64) (Merchant, error) {
	return s.Store.Merchant(ctx, scope, id)
}

// Dossier returns a merchant with its papers and events.
func (s *Service) Dossier(ctx context.Context, scope tenant.Scope, id int64) (Dossier, error) {
	m, err := s.Store.Merchant(ctx, scope, id)
	if err != nil {
		return Dossier{}, err
	}
	papers, err := s.Store.Papers(ctx, scope, id)
	if err != nil {
		return Dossier{}, err
	}
	events, err := s.Store.Events(ctx, scope, id)
	if err != nil {
		return Dossier{}, err
	}
	return Dossier{Merchant: m, Papers: papers, Events: events}, nil
}

// Paper returns one of a merchant's papers with its bytes.
func (s *Service) Paper(ctx context.Context, scope tenant.Scope, id, paper int64) (Paper, error) {
	return s.Store.Paper(ctx, scope, id, paper)
}

// Review is the operator's decision on a merchant: approve, reject or ask
// for more papers, suspend or reinstate. Reject, ask-for-more and suspend
// need a reason.
func (s *Service) Review(ctx context.Context, scope tenant.Scope, id int64, a Action, reason string) (Merchant, error) {
	if a == Resubmit {
		return Merchant{}, fault.New(fault.Invalid, "bad_action", "重新提交由申请人操作", "only the applicant resubmits")
	}
	return s.change(ctx, scope, id, a, reason, "operator")
}

// change moves a merchant through the status machine and does what the
// move means for its accounts.
func (s *Service) change(ctx context.Context, scope tenant.Scope, id int64, a Action, reason, who string) (Merchant, error) {
	reason = strings.TrimSpace(reason)
	if a.NeedsReason() && reason == "" {
		return Merchant{}, invalid("reason_required", "请填写原因", "give a reason")
	}
	if utf8.RuneCountInString(reason) > 500 {
		return Merchant{}, invalid("reason_too_long", "原因至多 500 个字符", "a reason is at most 500 characters")
	}
	m, err := s.Store.Merchant(ctx, scope, id)
	if err != nil {
		return Merchant{}, err
	}
	to, err := Next(m.Status, a)
	if err != nil {
		return Merchant{}, err
	}
	before := m
	now := s.Now()
	m.Status, m.UpdatedAt = to, now
	ev := Event{Merchant: id, At: now, Actor: actor(ctx, who), Action: a, From: before.Status, To: to, Reason: reason}
	var enable []int64
	switch a {
	case Approve:
		// The account first: a username taken since the application
		// leaves the merchant waiting, with nothing changed.
		acc, err := s.adminAccount(ctx, m)
		if err != nil {
			return Merchant{}, err
		}
		m.AdminAccount, m.AdminPasswordHash = acc.ID, ""
		if err := s.Store.UpdateMerchant(ctx, scope, m, before.Status, ev); err != nil {
			// Someone else decided meanwhile: the new login must not work.
			// A later approval adopts it (adminAccount), so the username
			// it holds never blocks the merchant.
			if derr := s.Identity.Store.SetDisabled(context.WithoutCancel(ctx), acc.ID, true); derr != nil {
				slog.ErrorContext(ctx, "disabling the admin login of an approval that failed", "merchant", id, "account", acc.ID, "err", derr.Error())
			}
			return Merchant{}, err
		}
	case Suspend:
		if before.Status == Approved {
			// The logins enabled now are the ones reinstatement gives
			// back; the status is written first, so a login made from
			// here on (an invitation accepted) sees it and disables
			// itself, and enforce lists any made before.
			accounts, err := s.Identity.Store.MerchantAccounts(ctx, id)
			if err != nil {
				return Merchant{}, err
			}
			m.SuspendedAccounts = nil
			for _, acc := range accounts {
				if !acc.Disabled {
					m.SuspendedAccounts = append(m.SuspendedAccounts, acc.ID)
				}
			}
		}
		// Suspending a suspended merchant records the event again and
		// re-runs the enforcement, which finishes one a failure cut short.
		if err := s.Store.UpdateMerchant(ctx, scope, m, before.Status, ev); err != nil {
			return Merchant{}, err
		}
		if err := s.enforceSuspension(ctx, m, reason); err != nil {
			return Merchant{}, err
		}
	case Reinstate:
		enable, m.SuspendedAccounts = m.SuspendedAccounts, nil
		if err := s.Store.UpdateMerchant(ctx, scope, m, before.Status, ev); err != nil {
			return Merchant{}, err
		}
		for _, acc := range enable {
			if err := s.Identity.Store.SetDisabled(ctx, acc, false); err != nil {
				return Merchant{}, err
			}
		}
	default:
		if err := s.Store.UpdateMerchant(ctx, scope, m, before.Status, ev); err != nil {
			return Merchant{}, err
		}
	}
	after := map[string]any{"status": m.Status}
	if a == Approve {
		after["admin_account"] = m.AdminAccount
	}
	if a == Suspend {
		after["disabled_accounts"] = m.SuspendedAccounts
	}
	if a == Reinstate {
		after["enabled_accounts"] = enable
	}
	if err := s.Audit.Record(ctx, "merchant."+string(a), m.Subject(), map[string]any{"status": before.Status}, after, reason); err != nil {
		return Merchant{}, err
	}
	return m, nil
}

// adminAccount makes the admin login of a merchant being approved, or
// adopts the one an earlier approval made and disabled when its update
// failed: the same username, merchant_admin of this merchant, enabled
// again. Any other holder of the username is ErrUsernameTaken.
func (s *Service) adminAccount(ctx context.Context, m Merchant) (identity.Account, error) {
	acc, err := s.Identity.Store.AccountByLogin(ctx, m.AdminUsername)
	switch {
	case err == nil && acc.Role == identity.MerchantAdmin && acc.Merchant == m.ID:
		if acc.Disabled {
			if err := s.Identity.Store.SetDisabled(ctx, acc.ID, false); err != nil {
				return identity.Account{}, err
			}
			acc.Disabled = false
		}
		return acc, nil
	case err == nil:
		return identity.Account{}, ErrUsernameTaken
	case !fault.Is(err, fault.NotFound):
		return identity.Account{}, err
	}
	return s.Identity.CreateAccount(ctx, identity.NewAccount{Username: m.AdminUsername, DisplayName: m.LegalName,
		Role: identity.MerchantAdmin, Merchant: m.ID, PasswordHash: m.AdminPasswordHash, Reason: "merchant " + strconv.FormatInt(m.ID, 10) + " approved"})
}

// enforceSuspension disables a suspended merchant's logins and ends their
// sessions: those the suspension recorded and any other still enabled
// (one made while it was under way, which stays disabled when the
// merchant is reinstated). Every step is idempotent, so running it again
// finishes a run a failure cut short.
func (s *Service) enforceSuspension(ctx context.Context, m Merchant, reason string) error {
	accounts, err := s.Identity.Store.MerchantAccounts(ctx, m.ID)
	if err != nil {
		return err
	}
	for _, acc := range accounts {
		if acc.Disabled && !slices.Contains(m.SuspendedAccounts, acc.ID) {
			continue // disabled by its admin before: nothing to end
		}
		if err := s.lockOut(ctx, acc, "merchant suspended: "+reason); err != nil {
			return err
		}
	}
	return nil
}

// lockOut disables an account (if it is not yet) and ends its sessions
// and tokens.
func (s *Service) lockOut(ctx context.Context, acc identity.Account, why string) error {
	if !acc.Disabled {
		if err := s.Identity.Store.SetDisabled(ctx, acc.ID, true); err != nil {
			return err
		}
	}
	_, err := s.Identity.RevokeAll(ctx, acc.ID, why)
	return err
}

// ---- the merchant admin's staff ----

var errStaffNotFound = fault.New(fault.NotFound, "staff_not_found", "没有这个员工", "no such staff member")

// own returns the merchant of a merchant's scope, which must be approved
// for its admin to manage staff.
func (s *Service) own(ctx context.Context, scope tenant.Scope) (Merchant, error) {
	id := scope.MerchantID()
	if id < 1 {
		return Merchant{}, ErrNotFound
	}
	m, err := s.Store.Merchant(ctx, scope, id)
	if err != nil {
		return Merchant{}, err
	}
	if m.Status != Approved {
		return Merchant{}, fault.Newf(fault.Conflict, "merchant_not_active", "商户状态为 %s，不能管理员工", "the merchant is %s: staff cannot be managed", m.Status)
	}
	return m, nil
}

// Staff lists the accounts of the scope's merchant (its admin and staff),
// oldest first.
func (s *Service) Staff(ctx context.Context, scope tenant.Scope) ([]identity.Account, error) {
	id := scope.MerchantID()
	if id < 1 {
		return nil, ErrNotFound
	}
	return s.Identity.Store.MerchantAccounts(ctx, id)
}

// staffAccount returns a staff account of the scope's merchant; any other
// account is not found.
func (s *Service) staffAccount(ctx context.Context, scope tenant.Scope, id int64) (identity.Account, error) {
	a, err := s.Identity.Store.AccountByID(ctx, id)
	if fault.Is(err, fault.NotFound) || (err == nil && (a.Role != identity.MerchantStaff || a.Merchant < 1 || !scope.Sees(a.Merchant))) {
		return identity.Account{}, errStaffNotFound
	}
	return a, err
}

// Invite is a merchant admin's invitation of a staff member.
type Invite struct {
	Username    string
	DisplayName string
	Grants      []identity.Permission
}

// Invited is an invitation stored and its token, shown this once.
type Invited struct {
	Invitation Invitation `json:"invitation"`
	Token      string     `json:"token" doc:"The invitation token: the invitee accepts with it (POST /api/v1/merchant-invitations/accept). Shown once."`
}

// Invite invites a staff member of the scope's merchant with grants (a
// subset of identity.Delegable); the invitation lasts InvitationTTL.
func (s *Service) Invite(ctx context.Context, scope tenant.Scope, in Invite) (Invited, error) {
	m, err := s.own(ctx, scope)
	if err != nil {
		return Invited{}, err
	}
	if err := identity.ValidGrants(in.Grants); err != nil {
		return Invited{}, err
	}
	inv := Invitation{Merchant: m.ID, Grants: uniqueGrants(in.Grants), InvitedBy: audit.ActorFrom(ctx).AccountID}
	if inv.Username, err = s.checkUsername(ctx, in.Username); err != nil {
		return Invited{}, err
	}
	if inv.DisplayName, err = checkText(in.DisplayName, 0, 50, "bad_display_name", "姓名至多 50 个字符", "a display name is at most 50 characters"); err != nil {
		return Invited{}, err
	}
	if inv.DisplayName == "" {
		inv.DisplayName = inv.Username
	}
	token, hash, err := newSecret("pmi_")
	if err != nil {
		return Invited{}, err
	}
	inv.Hash = hash
	inv.CreatedAt = s.Now()
	inv.ExpiresAt = inv.CreatedAt.Add(s.InvitationTTL)
	if err := s.Store.CreateInvitation(ctx, scope, inv); err != nil {
		return Invited{}, err
	}
	if err := s.Audit.Record(ctx, "merchant.staff.invite", m.Subject(), nil, map[string]any{"username": inv.Username, "grants": inv.Grants}, ""); err != nil {
		return Invited{}, err
	}
	return Invited{Invitation: inv, Token: token}, nil
}

// Invitations lists the scope's merchant's invitations still open.
func (s *Service) Invitations(ctx context.Context, scope tenant.Scope) ([]Invitation, error) {
	id := scope.MerchantID()
	if id < 1 {
		return nil, ErrNotFound
	}
	return s.Store.Invitations(ctx, scope, id, s.Now())
}

func uniqueGrants(gs []identity.Permission) []identity.Permission {
	out := []identity.Permission{}
	for _, p := range identity.Delegable {
		if slices.Contains(gs, p) {
			out = append(out, p)
		}
	}
	return out
}

// AcceptInvitation makes the invited staff account with its password and
// grants, once, while the invitation lasts and its merchant is approved.
func (s *Service) AcceptInvitation(ctx context.Context, token, password string) (identity.Account, error) {
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(token, "pmi_") || len(token) > 100 {
		return identity.Account{}, ErrInvitationNotFound
	}
	hash := hashSecret(token)
	inv, err := s.Store.Invitation(ctx, hash)
	if err != nil {
		return identity.Account{}, err
	}
	now := s.Now()
	if !inv.AcceptedAt.IsZero() {
		return identity.Account{}, ErrInvitationUsed
	}
	if !now.Before(inv.ExpiresAt) {
		return identity.Account{}, ErrInvitationNotFound
	}
	m, err := s.Store.Merchant(ctx, tenant.Merchant(inv.Merchant), inv.Merchant)
	if err != nil {
		return identity.Account{}, err
	}
	if m.Status != Approved {
		return identity.Account{}, fault.Newf(fault.Conflict, "merchant_not_active", "商户状态为 %s，暂不能加入", "the merchant is %s: it cannot be joined now", m.Status)
	}
	acc, err := s.Identity.CreateAccount(ctx, identity.NewAccount{Username: inv.Username, DisplayName: inv.DisplayName, Role: identity.MerchantStaff,
		Password: password, Merchant: inv.Merchant, Grants: inv.Grants, Reason: "invitation of merchant " + strconv.FormatInt(inv.Merchant, 10) + " accepted"})
	if err != nil {
		return identity.Account{}, err
	}
	if err := s.Store.AcceptInvitation(ctx, hash, acc.ID, now); err != nil {
		_ = s.Identity.Store.SetDisabled(ctx, acc.ID, true)
		return identity.Account{}, err
	}
	// A suspension may have begun since the check above; it writes the
	// status before it lists the logins, so either it lists this one or
	// this check sees it: the new login never outlives a suspension.
	if m, err = s.Store.Merchant(ctx, tenant.Merchant(inv.Merchant), inv.Merchant); err != nil || m.Status != Approved {
		if lerr := s.lockOut(context.WithoutCancel(ctx), acc, "merchant no longer approved when the invitation was accepted"); lerr != nil {
			slog.ErrorContext(ctx, "disabling a staff login of a merchant no longer approved", "merchant", inv.Merchant, "account", acc.ID, "err", lerr.Error())
		}
		if err != nil {
			return identity.Account{}, err
		}
		return identity.Account{}, fault.Newf(fault.Conflict, "merchant_not_active", "商户状态为 %s，账号已停用，请联系商户管理员", "the merchant is %s: the account is disabled; ask the merchant's admin", m.Status)
	}
	return acc, s.Audit.Record(ctx, "merchant.staff.accept", m.Subject(), nil, map[string]any{"account": acc.ID, "username": acc.Username, "grants": acc.Grants}, "")
}

// SetStaffGrants replaces a staff account's grants; they apply from its
// next request.
func (s *Service) SetStaffGrants(ctx context.Context, scope tenant.Scope, id int64, grants []identity.Permission) (identity.Account, error) {
	m, err := s.own(ctx, scope)
	if err != nil {
		return identity.Account{}, err
	}
	a, err := s.staffAccount(ctx, scope, id)
	if err != nil {
		return identity.Account{}, err
	}
	if err := identity.ValidGrants(grants); err != nil {
		return identity.Account{}, err
	}
	grants = uniqueGrants(grants)
	if err := s.Identity.Store.SetGrants(ctx, a.ID, grants); err != nil {
		return identity.Account{}, err
	}
	before := a.Grants
	a.Grants = grants
	return a, s.Audit.Record(ctx, "merchant.staff.grants", "account:"+strconv.FormatInt(a.ID, 10), map[string]any{"merchant": m.ID, "grants": before}, map[string]any{"grants": grants}, "")
}

// SetStaffDisabled disables a staff account (ending its sessions and
// tokens) or enables it again.
func (s *Service) SetStaffDisabled(ctx context.Context, scope tenant.Scope, id int64, disabled bool) (identity.Account, error) {
	m, err := s.own(ctx, scope)
	if err != nil {
		return identity.Account{}, err
	}
	a, err := s.staffAccount(ctx, scope, id)
	if err != nil {
		return identity.Account{}, err
	}
	if err := s.Identity.Store.SetDisabled(ctx, a.ID, disabled); err != nil {
		return identity.Account{}, err
	}
	if disabled {
		if _, err := s.Identity.RevokeAll(ctx, a.ID, "disabled by the merchant's admin"); err != nil {
			return identity.Account{}, err
		}
	}
	action := "merchant.staff.enable"
	if disabled {
		action = "merchant.staff.disable"
	}
	a.Disabled = disabled
	return a, s.Audit.Record(ctx, action, "account:"+strconv.FormatInt(a.ID, 10), nil, map[string]any{"merchant": m.ID, "disabled": disabled}, "")
}
