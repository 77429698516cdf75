package employer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/merchant"
	"piao/internal/network"
	"piao/internal/payment"
	"piao/internal/tenant"
)

// Benefits is what the allowance needs of value-added tickets (the
// benefits service).
type Benefits interface {
	// CreateProduct stores a product owned by the scope's merchant.
	CreateProduct(ctx context.Context, scope tenant.Scope, p benefits.Product, owner, actor string) (benefits.Product, error)
	// CreateCampaign stores a draft (prepaid) campaign of the scope's merchant.
	CreateCampaign(ctx context.Context, scope tenant.Scope, c benefits.Campaign, owner, actor string) (benefits.Campaign, error)
	// AddStock adds stock and budget to a prepaid campaign once per key.
	AddStock(ctx context.Context, scope tenant.Scope, campaignID int64, key string, tickets int, value int64) (benefits.Campaign, error)
	// Act performs a review or life-cycle action on a campaign.
	Act(ctx context.Context, scope tenant.Scope, id int64, a benefits.Action, actor, reason string) (benefits.Campaign, error)
	// Campaign returns a campaign the scope sees.
	Campaign(ctx context.Context, scope tenant.Scope, id int64) (benefits.Campaign, error)
	// Issue serves issue requests in one transaction, idempotent by key.
	Issue(ctx context.Context, now time.Time, reqs []benefits.IssueRequest) ([]benefits.IssueResult, error)
}

// Accounts finds passenger accounts by phone (the identity store, whose
// lookup goes by the phone's blind index).
type Accounts interface {
	// AccountByLogin finds an account by username or phone.
	AccountByLogin(ctx context.Context, login string) (identity.Account, error)
}

// Organisations reads merchants (the merchant service): an employer is a
// merchant of kind employer.
type Organisations interface {
	// Merchant returns a merchant the scope sees.
	Merchant(ctx context.Context, scope tenant.Scope, id int64) (merchant.Merchant, error)
}

// Config connects the service.
type Config struct {
	Now       func() time.Time
	Benefits  Benefits
	Accounts  Accounts
	Merchants Organisations
	// Gateway takes top-ups and bill payments; nil refuses them
	// (ErrMoneyOff).
	Gateway payment.Gateway
	// NotifyURL is where the gateway posts notifications
	// (<base>/api/v1/employer-payments/notify); ReturnURL where the payer's
	// browser goes after paying (<base>/merchant/top-ups).
	NotifyURL string
	ReturnURL string
	// Batch is how many employees one issue transaction serves (default 200).
	Batch int
	// InvitationTTL is how long an invitation may be accepted (default 7 days).
	InvitationTTL time.Duration
	// Audit records roster changes, rules, runs and money.
	Audit *audit.Log
}

// Service runs employee benefits over a Store.
type Service struct {
	store Store
	cfg   Config
}

// New returns the service over st.
func New(st Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 200
	}
	if cfg.InvitationTTL <= 0 {
		cfg.InvitationTTL = 7 * 24 * time.Hour
	}
	return &Service{store: st, cfg: cfg}
}

// Errors of the service.
var (
	ErrNotRunning   = fault.New(fault.Unavailable, "employers_unavailable", "企业福利服务未启动", "employee benefits are not running in this process")
	ErrEmployerOnly = fault.New(fault.Forbidden, "employer_only", "仅企业或商户账号可执行此操作", "only an organisation's users may do this")
	ErrMoneyOff     = fault.New(fault.Unavailable, "employer_payments_unavailable", "本服务未接入支付网关", "payments are not available in this process")
)

// now is the clock cut to microseconds, the precision both engines keep.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// employer returns the scope's own organisation. Any merchant organisation
// may keep a roster and an allowance (a bank may run campaigns for its
// customers and give its staff an allowance); its kind says which console
// it is shown first: those of kind employer get the employee pages.
func (s *Service) employer(ctx context.Context, scope tenant.Scope) (merchant.Merchant, error) {
	id := scope.MerchantID()
	if id <= 0 {
		return merchant.Merchant{}, ErrEmployerOnly
	}
	return s.cfg.Merchants.Merchant(ctx, scope, id)
}

// record writes an audit entry.
func (s *Service) record(ctx context.Context, action, subject string, before, after any, reason string) error {
	return s.cfg.Audit.Record(ctx, action, subject, before, after, reason)
}

// Employees lists the scope's roster.
func (s *Service) Employees(ctx context.Context, scope tenant.Scope, f Filter) ([]Employee, error) {
	m, err := s.employer(ctx, scope)
	if err != nil {
		return nil, err
	}
	return s.store.Employees(ctx, scope, m.ID, f.Bounded())
}

// Employee returns one employee of the scope's roster.
func (s *Service) Employee(ctx context.Context, scope tenant.Scope, id int64) (Employee, error) {
	if _, err := s.employer(ctx, scope); err != nil {
		return Employee{}, err
	}
	return s.store.Employee(ctx, scope, id)
}

// Add puts one employee on the roster, linked at once to the passenger
// account with the same phone, if there is one.
func (s *Service) Add(ctx context.Context, scope tenant.Scope, e Employee) (Employee, error) {
	m, err := s.employer(ctx, scope)
	if err != nil {
		return Employee{}, err
	}
	if err := e.Normalise(); err != nil {
		return Employee{}, err
	}
	now := s.now()
	e.ID, e.Employer, e.Status, e.Left, e.CreatedAt, e.UpdatedAt = 0, m.ID, Active, network.Date{}, now, now
	e.Account, e.LinkedAt = s.accountOf(ctx, e.Phone), time.Time{}
	if e.Account != 0 {
		e.LinkedAt = now
	}
	out, err := s.store.AddEmployees(ctx, scope, []Employee{e})
	if err != nil {
		return Employee{}, err
	}
	if err := s.record(ctx, "employer.employee.add", Subject(out[0].ID), nil, out[0], ""); err != nil {
		return Employee{}, err
	}
	return out[0], nil
}

// Import adds a roster CSV, all or nothing: every line is checked (format,
// duplicates within the file and against the roster) and any error refuses
// the whole file, naming line and column. Employees whose phone is a
// passenger's are linked at once.
func (s *Service) Import(ctx context.Context, scope tenant.Scope, data []byte) ([]Employee, error) {
	m, err := s.employer(ctx, scope)
	if err != nil {
		return nil, err
	}
	// The file's own errors and its clashes with the roster are reported
	// together.
	var e importErrs
	rows := parseRoster(data, &e)
	numbers, phones := make([]string, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		numbers[i], phones[i] = r.Number, r.Phone
	}
	takenN, takenP, err := s.store.TakenOf(ctx, scope, m.ID, numbers, phones)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if takenN[r.Number] {
			e.addf(r.Line, "number", "工号 %s 已在花名册中", "number %s is on the roster already", r.Number)
		}
		if takenP[r.Phone] {
			e.add(r.Line, "phone", "该手机号已在花名册中", "this phone is on the roster already")
		}
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	now := s.now()
	es := make([]Employee, len(rows))
	for i, r := range rows {
		es[i] = r.Employee
		es[i].Employer, es[i].Status, es[i].CreatedAt, es[i].UpdatedAt = m.ID, Active, now, now
		if es[i].Account = s.accountOf(ctx, r.Phone); es[i].Account != 0 {
			es[i].LinkedAt = now
		}
	}
	out, err := s.store.AddEmployees(ctx, scope, es)
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, "employer.roster.import", merchant.Subject(m.ID), nil, map[string]any{"added": len(out)}, ""); err != nil {
		return nil, err
	}
	return out, nil
}

// accountOf is the active passenger account with phone, or 0.
func (s *Service) accountOf(ctx context.Context, phone string) int64 {
	if s.cfg.Accounts == nil {
		return 0
	}
	a, err := s.cfg.Accounts.AccountByLogin(ctx, phone)
	if err != nil || a.Phone != phone || a.Role != identity.Passenger || a.Disabled {
		return 0
	}
	return a.ID
}

// Edit changes an employee's number, name, phone, department or joining
// date.
func (s *Service) Edit(ctx context.Context, scope tenant.Scope, id int64, ed EmployeeEdit) (Employee, error) {
	if _, err := s.employer(ctx, scope); err != nil {
		return Employee{}, err
	}
	var before Employee
	now := s.now()
	e, err := s.store.UpdateEmployee(ctx, scope, id, func(e *Employee) error {
		before = *e
		if err := ed.Apply(e); err != nil {
			return err
		}
		e.UpdatedAt = now
		return nil
	})
	if err != nil {
		return Employee{}, err
	}
	if err := s.record(ctx, "employer.employee.edit", Subject(id), before, e, ""); err != nil {
		return Employee{}, err
	}
	return e, nil
}

// LinkByPhone links an unlinked employee to the passenger account whose
// phone is the employee's.
func (s *Service) LinkByPhone(ctx context.Context, scope tenant.Scope, id int64) (Employee, error) {
	if _, err := s.employer(ctx, scope); err != nil {
		return Employee{}, err
	}
	cur, err := s.store.Employee(ctx, scope, id)
	if err != nil {
		return Employee{}, err
	}
	acc := s.accountOf(ctx, cur.Phone)
	if acc == 0 {
		return Employee{}, fault.New(fault.NotFound, "passenger_not_found", "没有使用该手机号的乘客账号：请改用邀请链接", "no passenger account has this phone: send an invitation instead")
	}
	now := s.now()
	e, err := s.store.UpdateEmployee(ctx, scope, id, func(e *Employee) error {
		switch {
		case e.Status != Active:
			return ErrNotActive
		case e.Account != 0:
			return errLinked
		}
		e.Account, e.LinkedAt, e.UpdatedAt = acc, now, now
		return nil
	})
	if err != nil {
		return Employee{}, err
	}
	if err := s.record(ctx, "employer.employee.link", Subject(id), cur, e, "by phone"); err != nil {
		return Employee{}, err
	}
	return e, nil
}

var errLinked = fault.New(fault.Conflict, "employee_linked", "该员工已关联乘客账号", "the employee is linked to a passenger account already")

// EmployeeInvited is an invitation with its token, shown once.
type EmployeeInvited struct {
	EmployeeInvitation
	Token string `json:"token" doc:"The invitation token: the employee accepts it, logged in as a passenger. Shown once."`
}

// Invite makes a one-time invitation for an active, unlinked employee.
func (s *Service) Invite(ctx context.Context, scope tenant.Scope, id int64) (EmployeeInvited, error) {
	if _, err := s.employer(ctx, scope); err != nil {
		return EmployeeInvited{}, err
	}
	e, err := s.store.Employee(ctx, scope, id)
	if err != nil {
		return EmployeeInvited{}, err
	}
	switch {
	case e.Status != Active:
		return EmployeeInvited{}, ErrNotActive
	case e.Account != 0:
		return EmployeeInvited{}, errLinked
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return EmployeeInvited{}, fault.Wrap(err, "make invitation token")
	}
	token := "pei_" + base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	inv := EmployeeInvitation{Hash: hashToken(token), Employee: e.ID, Employer: e.Employer, CreatedAt: now, ExpiresAt: now.Add(s.cfg.InvitationTTL)}
	if err := s.store.CreateInvitation(ctx, scope, inv); err != nil {
		return EmployeeInvited{}, err
	}
	if err := s.record(ctx, "employer.employee.invite", Subject(id), nil, inv, ""); err != nil {
		return EmployeeInvited{}, err
	}
	return EmployeeInvited{EmployeeInvitation: inv, Token: token}, nil
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// AcceptInvitation links the invitation's employee to the logged-in
// passenger account; a token works once, before it expires.
func (s *Service) AcceptInvitation(ctx context.Context, token string, account int64) (Employee, error) {
	if len(token) < 10 || len(token) > 100 {
		return Employee{}, ErrInvitationNotFound
	}
	e, err := s.store.AcceptInvitation(ctx, hashToken(token), account, s.now())
	if err != nil {
		return Employee{}, err
	}
	if err := s.record(ctx, "employer.employee.link", Subject(e.ID), nil, e, "by invitation"); err != nil {
		return Employee{}, err
	}
	return e, nil
}

// Offboard marks an employee as having left on the day given (today if
// empty). By the rule's policy, the allowance they hold unused is revoked
// at once or runs to the end of its month; either way they get no more.
func (s *Service) Offboard(ctx context.Context, scope tenant.Scope, id int64, left, reason string) (Employee, int, error) {
	m, err := s.employer(ctx, scope)
	if err != nil {
		return Employee{}, 0, err
	}
	before, err := s.store.Employee(ctx, scope, id)
	if err != nil {
		return Employee{}, 0, err
	}
	day, err := parseDate(left)
	if err != nil {
		return Employee{}, 0, err
	}
	now := s.now()
	if day.IsZero() {
		day = network.DateOf(now.In(benefits.Shanghai))
	}
	// Only the current month's allowance can still be valid.
	key := ""
	if r, err := s.store.Rule(ctx, scope, m.ID); err == nil && r.Offboard == RevokeUnused {
		key = IssueKey(r.ID, id, MonthOf(now))
	} else if err != nil && !fault.Is(err, fault.NotFound) {
		return Employee{}, 0, err
	}
	e, revoked, err := s.store.Offboard(ctx, scope, id, day, key, now)
	if err != nil {
		return Employee{}, 0, err
	}
	if err := s.record(ctx, "employer.employee.offboard", Subject(id), before, map[string]any{"employee": e, "revoked_tickets": revoked}, reason); err != nil {
		return Employee{}, 0, err
	}
	return e, revoked, nil
}
