package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/benefits"
	"piao/internal/employer"
	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/network"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// Employer returns the store of rosters, allowance rules, top-ups and bills.
func (db *DB) Employer() employer.Store { return &employerStore{db} }

// employerStore implements employer.Store on PostgreSQL. Every query over
// an employer's rows filters by the scope; read-modify-write transactions
// lock the row they change (FOR UPDATE).
type employerStore struct{ *DB }

var _ employer.Store = (*employerStore)(nil)

const employerScoped = ` AND (? OR employer_id = ?)`

// pgq numbers a query's ? placeholders $1, $2, … (no query here holds a
// literal ?).
func pgq(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func init() {
	resealSteps = append(resealSteps, resealStep{"employees", `SELECT id, phone_sealed FROM employees WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
		`UPDATE employees SET phone_sealed = $1 WHERE id = $2`, nil, 0,
		func(p sqlrow.PII, r pgx.Rows) ([]any, []any, bool, error) {
			var id int64
			var s string
			if err := r.Scan(&id, &s); err != nil {
				return nil, nil, false, err
			}
			s, changed, err := p.Keys.Reseal(s)
			return []any{id}, []any{s, id}, changed, err
		}})
}

// TakenOf returns which numbers and phones the roster holds already.
func (s *employerStore) TakenOf(ctx context.Context, scope tenant.Scope, emp int64, numbers, phones []string) (map[string]bool, map[string]bool, error) {
	takenN, takenP := map[string]bool{}, map[string]bool{}
	if !scope.Sees(emp) {
		return takenN, takenP, nil
	}
	index := make(map[string]string, len(phones))
	keys := make([]string, 0, len(phones))
	for _, p := range phones {
		i := s.pii.PhoneIndex(p)
		index[i] = p
		keys = append(keys, i)
	}
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		ns, err := list(ctx, tx, "read roster numbers", sqlrow.ScanOne[string],
			`SELECT number FROM employees WHERE employer_id = $1 AND number = ANY($2)`, emp, numbers)
		if err != nil {
			return err
		}
		for _, n := range ns {
			takenN[n] = true
		}
		ps, err := list(ctx, tx, "read roster phones", sqlrow.ScanOne[string],
			`SELECT phone_index FROM employees WHERE employer_id = $1 AND phone_index = ANY($2)`, emp, keys)
		for _, i := range ps {
			takenP[index[i]] = true
		}
		return err
	})
	return takenN, takenP, err
}

// duplicate maps a unique violation to employer.ErrDuplicate.
func duplicate(err error, what string) error {
	if v, _ := violation(err); v == sqlrow.Unique {
		return employer.ErrDuplicate
	}
	return fault.Wrap(err, what)
}

// AddEmployees stores employees, all or none.
func (s *employerStore) AddEmployees(ctx context.Context, scope tenant.Scope, es []employer.Employee) ([]employer.Employee, error) {
	out := make([]employer.Employee, len(es))
	err := s.tx(ctx, func(tx pgx.Tx) error {
		for i, e := range es {
			if !scope.Sees(e.Employer) || e.Employer <= 0 {
				return employer.ErrNotFound
			}
			idx, sealedPhone, body, account, err := s.pii.EmployeeRow(e)
			if err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `INSERT INTO employees (employer_id, number, phone_index, phone_sealed, status, account_id, body) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, e.Employer, e.Number, idx, sealedPhone, string(e.Status), account, body).Scan(&e.ID); err != nil {
				return duplicate(err, "store employee")
			}
			out[i] = e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Employee returns one employee the scope sees.
func (s *employerStore) Employee(ctx context.Context, scope tenant.Scope, id int64) (employer.Employee, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return s.pii.ScanEmployee(s.pool.QueryRow(ctx, pgq(`SELECT `+sqlrow.EmployeeColumns+` FROM employees WHERE id = ?`+employerScoped+` FOR UPDATE`), id, all, m))
}

// Employees lists an employer's employees by ID.
func (s *employerStore) Employees(ctx context.Context, scope tenant.Scope, emp int64, f employer.Filter) ([]employer.Employee, error) {
	f = f.Bounded()
	all, m := sqlrow.ScopeArgs(scope)
	return list(ctx, s.pool, "list employees", s.pii.ScanEmployee,
		pgq(`SELECT `+sqlrow.EmployeeColumns+` FROM employees WHERE employer_id = ? AND (? = '' OR status = ?) AND id > ?`+employerScoped+` ORDER BY id LIMIT ?`),
		emp, string(f.Status), string(f.Status), f.AfterID, all, m, f.Limit)
}

// UpdateEmployee runs fn on an employee and stores the result.
func (s *employerStore) UpdateEmployee(ctx context.Context, scope tenant.Scope, id int64, fn func(*employer.Employee) error) (employer.Employee, error) {
	var e employer.Employee
	err := s.tx(ctx, func(tx pgx.Tx) error {
		all, m := sqlrow.ScopeArgs(scope)
		var err error
		if e, err = s.pii.ScanEmployee(tx.QueryRow(ctx, pgq(`SELECT `+sqlrow.EmployeeColumns+` FROM employees WHERE id = ?`+employerScoped+` FOR UPDATE`), id, all, m)); err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
		return s.writeEmployee(ctx, tx, e)
	})
	return e, err
}

func (s *employerStore) writeEmployee(ctx context.Context, tx pgx.Tx, e employer.Employee) error {
	idx, sealedPhone, body, account, err := s.pii.EmployeeRow(e)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, pgq(`UPDATE employees SET number = ?, phone_index = ?, phone_sealed = ?, status = ?, account_id = ?, body = ? WHERE id = ?`),
		e.Number, idx, sealedPhone, string(e.Status), account, body, e.ID)
	return duplicate(err, "update employee")
}

// Offboard marks an employee offboarded and revokes its unused allowance.
func (s *employerStore) Offboard(ctx context.Context, scope tenant.Scope, id int64, left network.Date, revokeKey string, now time.Time) (employer.Employee, int, error) {
	var e employer.Employee
	revoked := 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		all, m := sqlrow.ScopeArgs(scope)
		var err error
		if e, err = s.pii.ScanEmployee(tx.QueryRow(ctx, pgq(`SELECT `+sqlrow.EmployeeColumns+` FROM employees WHERE id = ?`+employerScoped+` FOR UPDATE`), id, all, m)); err != nil {
			return err
		}
		if e.Status != employer.Active {
			return employer.ErrNotActive
		}
		e.Status, e.Left, e.UpdatedAt = employer.Offboarded, left, now
		if err := s.writeEmployee(ctx, tx, e); err != nil {
			return err
		}
		if revokeKey == "" {
			return nil
		}
		// The writer connection serialises this with every ride's redemption.
		res, err := tx.Exec(ctx, pgq(`UPDATE benefit_tickets SET state = ? WHERE issue_key = ? AND state = ? AND rides_left > 0 AND valid_until > ?`),
			benefits.Revoked, revokeKey, benefits.Held, sqlrow.At(now))
		if err != nil {
			return fault.Wrap(err, "revoke allowance")
		}
		revoked = int(res.RowsAffected())
		return nil
	})
	return e, revoked, err
}

// CreateInvitation stores an invitation of an employee the scope sees.
func (s *employerStore) CreateInvitation(ctx context.Context, scope tenant.Scope, inv employer.EmployeeInvitation) error {
	if !scope.Sees(inv.Employer) {
		return employer.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, pgq(`INSERT INTO employee_invitations (hash, employee_id, employer_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
			inv.Hash, inv.Employee, inv.Employer, sqlrow.At(inv.CreatedAt), sqlrow.At(inv.ExpiresAt))
		return fault.Wrap(err, "store invitation")
	})
}

// AcceptInvitation links the invitation's employee to account, once.
func (s *employerStore) AcceptInvitation(ctx context.Context, hash []byte, account int64, now time.Time) (employer.Employee, error) {
	var e employer.Employee
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var emp int64
		err := tx.QueryRow(ctx, pgq(`SELECT employee_id FROM employee_invitations WHERE hash = ? AND accepted_at IS NULL AND expires_at > ? FOR UPDATE`), hash, sqlrow.At(now)).Scan(&emp)
		if errors.Is(err, pgx.ErrNoRows) {
			return employer.ErrInvitationNotFound
		} else if err != nil {
			return fault.Wrap(err, "read invitation")
		}
		if e, err = s.pii.ScanEmployee(tx.QueryRow(ctx, pgq(`SELECT `+sqlrow.EmployeeColumns+` FROM employees WHERE id = ? FOR UPDATE`), emp)); err != nil {
			return err
		}
		switch {
		case e.Status != employer.Active:
			return employer.ErrNotActive
		case e.Account != 0:
			return employer.ErrInvitationNotFound
		}
		e.Account, e.LinkedAt, e.UpdatedAt = account, now, now
		if err := s.writeEmployee(ctx, tx, e); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, pgq(`UPDATE employee_invitations SET accepted_at = ?, account_id = ? WHERE hash = ?`), sqlrow.At(now), account, hash)
		return fault.Wrap(err, "accept invitation")
	})
	return e, err
}

// CreateRule stores an employer's rule.
func (s *employerStore) CreateRule(ctx context.Context, scope tenant.Scope, r *employer.AllowanceRule) error {
	if !scope.Sees(r.Employer) || r.Employer <= 0 {
		return employer.ErrNoRule
	}
	body, err := sqlrow.Body(r)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, pgq(`INSERT INTO allowance_rules (employer_id, campaign_id, body) VALUES (?, ?, ?) RETURNING id`), r.Employer, r.CampaignID, body).Scan(&r.ID)
		if v, _ := violation(err); v == sqlrow.Unique {
			return employer.ErrRuleExists
		}
		return fault.Wrap(err, "store allowance rule")
	})
}

// Rule returns an employer's rule.
func (s *employerStore) Rule(ctx context.Context, scope tenant.Scope, emp int64) (employer.AllowanceRule, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return sqlrow.ScanRule(s.pool.QueryRow(ctx, pgq(`SELECT `+sqlrow.RuleColumns+` FROM allowance_rules WHERE employer_id = ?`+employerScoped), emp, all, m))
}

// Rules lists the rules the scope sees.
func (s *employerStore) Rules(ctx context.Context, scope tenant.Scope) ([]employer.AllowanceRule, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return list(ctx, s.pool, "list allowance rules", sqlrow.ScanRule, pgq(`SELECT `+sqlrow.RuleColumns+` FROM allowance_rules WHERE 1 = 1`+employerScoped+` ORDER BY id`), all, m)
}

// UpdateRule stores a rule's changeable parts (the whole body).
func (s *employerStore) UpdateRule(ctx context.Context, scope tenant.Scope, r employer.AllowanceRule) error {
	body, err := sqlrow.Body(r)
	if err != nil {
		return err
	}
	all, m := sqlrow.ScopeArgs(scope)
	tag, err := s.pool.Exec(ctx, pgq(`UPDATE allowance_rules SET body = ? WHERE id = ? AND employer_id = ?`+employerScoped), body, r.ID, r.Employer, all, m)
	if err != nil {
		return fault.Wrap(err, "update allowance rule")
	}
	if tag.RowsAffected() == 0 {
		return employer.ErrNoRule
	}
	return nil
}

// CreateTopUp stores a pending top-up.
func (s *employerStore) CreateTopUp(ctx context.Context, scope tenant.Scope, t *employer.TopUp) error {
	if !scope.Sees(t.Employer) || t.Employer <= 0 {
		return employer.ErrTopUpNotFound
	}
	body, err := sqlrow.Body(t)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		return fault.Wrap(tx.QueryRow(ctx, pgq(`INSERT INTO employer_topups (employer_id, status, amount_fen, expires_at, body) VALUES (?, ?, ?, ?, ?) RETURNING id`),
			t.Employer, string(t.Status), t.AmountFen, sqlrow.At(t.ExpiresAt), body).Scan(&t.ID), "store top-up")
	})
}

// changeTopUp runs fn on a top-up the scope sees, inside tx, and stores it.
func changeTopUp(ctx context.Context, tx pgx.Tx, scope tenant.Scope, id int64, fn func(*employer.TopUp) (bool, error)) (bool, error) {
	all, m := sqlrow.ScopeArgs(scope)
	t, err := sqlrow.ScanTopUp(tx.QueryRow(ctx, pgq(`SELECT `+sqlrow.TopUpColumns+` FROM employer_topups WHERE id = ?`+employerScoped+` FOR UPDATE`), id, all, m))
	if err != nil {
		return false, err
	}
	ok, err := fn(&t)
	if !ok || err != nil {
		return ok, err
	}
	body, err := sqlrow.Body(t)
	if err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, pgq(`UPDATE employer_topups SET status = ?, body = ? WHERE id = ?`), string(t.Status), body, id)
	return true, fault.Wrap(err, "update top-up")
}

// SetTopUpPayment records a pending top-up's gateway payment.
func (s *employerStore) SetTopUpPayment(ctx context.Context, scope tenant.Scope, id int64, paymentID, payURL string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := changeTopUp(ctx, tx, scope, id, func(t *employer.TopUp) (bool, error) {
			t.PaymentID, t.PayURL = paymentID, payURL
			return true, nil
		})
		return err
	})
}

// TopUp returns a top-up the scope sees.
func (s *employerStore) TopUp(ctx context.Context, scope tenant.Scope, id int64) (employer.TopUp, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return sqlrow.ScanTopUp(s.pool.QueryRow(ctx, pgq(`SELECT `+sqlrow.TopUpColumns+` FROM employer_topups WHERE id = ?`+employerScoped), id, all, m))
}

// TopUps lists an employer's top-ups, newest first.
func (s *employerStore) TopUps(ctx context.Context, scope tenant.Scope, emp int64, limit int) ([]employer.TopUp, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return list(ctx, s.pool, "list top-ups", sqlrow.ScanTopUp, pgq(`SELECT `+sqlrow.TopUpColumns+` FROM employer_topups WHERE employer_id = ?`+employerScoped+` ORDER BY id DESC LIMIT ?`), emp, all, m, limit)
}

// PayTopUp marks a pending top-up paid and posts its entry, together.
func (s *employerStore) PayTopUp(ctx context.Context, id int64, paymentID string, at time.Time, e ledger.Entry) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		ok, err = changeTopUp(ctx, tx, tenant.All(), id, func(t *employer.TopUp) (bool, error) {
			if t.Status != employer.Pending {
				return false, nil
			}
			t.Status, t.PaymentID, t.PaidAt = employer.Paid, paymentID, at
			return true, nil
		})
		if !ok || err != nil {
			return err
		}
		_, err = postEntry(ctx, tx, e)
		return err
	})
	return ok, err
}

// CloseTopUp closes a pending top-up, or records a late payment's refund
// on a closed one.
func (s *employerStore) CloseTopUp(ctx context.Context, id int64, at time.Time, refundID string) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		ok, err = changeTopUp(ctx, tx, tenant.All(), id, func(t *employer.TopUp) (bool, error) {
			switch t.Status {
			case employer.Pending:
				t.Status, t.ClosedAt = employer.Closed, at
			case employer.Closed:
			default:
				return false, nil
			}
			if refundID != "" {
				t.RefundID = refundID
			}
			return true, nil
		})
		return err
	})
	return ok, err
}

// DueTopUps lists pending top-ups expired by now.
func (s *employerStore) DueTopUps(ctx context.Context, now time.Time, limit int) ([]employer.TopUp, error) {
	return list(ctx, s.pool, "list due top-ups", sqlrow.ScanTopUp, pgq(`SELECT `+sqlrow.TopUpColumns+` FROM employer_topups WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?`), sqlrow.At(now), limit)
}

// CreateBill stores a month's bill with its entry, once per month.
func (s *employerStore) CreateBill(ctx context.Context, b employer.Bill, e ledger.Entry) (employer.Bill, bool, error) {
	created := false
	err := s.tx(ctx, func(tx pgx.Tx) error {
		stored, err := sqlrow.ScanBill(tx.QueryRow(ctx, pgq(`SELECT `+sqlrow.BillColumns+` FROM employer_bills WHERE employer_id = ? AND month = ?`), b.Employer, b.Month))
		if err == nil {
			b = stored
			return nil
		} else if !fault.Is(err, fault.NotFound) {
			return err
		}
		body, err := sqlrow.Body(b)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, pgq(`INSERT INTO employer_bills (employer_id, month, status, amount_fen, body) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (employer_id, month) DO NOTHING RETURNING id`),
			b.Employer, b.Month, string(b.Status), b.AmountFen, body).Scan(&b.ID)
		if errors.Is(err, pgx.ErrNoRows) { // billed meanwhile by another run
			b, err = sqlrow.ScanBill(tx.QueryRow(ctx, pgq(`SELECT `+sqlrow.BillColumns+` FROM employer_bills WHERE employer_id = ? AND month = ?`), b.Employer, b.Month))
			return err
		}
		if err != nil {
			return fault.Wrap(err, "store bill")
		}
		if len(e.Postings) > 0 {
			e.Ref = employer.BillSubject(b.ID)
			if _, err := postEntry(ctx, tx, e); err != nil {
				return err
			}
		}
		created = true
		return nil
	})
	return b, created, err
}

// changeBill runs fn on a bill the scope sees, inside tx, and stores it.
func changeBill(ctx context.Context, tx pgx.Tx, scope tenant.Scope, id int64, fn func(*employer.Bill) bool) (bool, error) {
	all, m := sqlrow.ScopeArgs(scope)
	b, err := sqlrow.ScanBill(tx.QueryRow(ctx, pgq(`SELECT `+sqlrow.BillColumns+` FROM employer_bills WHERE id = ?`+employerScoped+` FOR UPDATE`), id, all, m))
	if err != nil {
		return false, err
	}
	if !fn(&b) {
		return false, nil
	}
	body, err := sqlrow.Body(b)
	if err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, pgq(`UPDATE employer_bills SET status = ?, body = ? WHERE id = ?`), string(b.Status), body, id)
	return true, fault.Wrap(err, "update bill")
}

// SetBillPayment records an issued bill's gateway payment.
func (s *employerStore) SetBillPayment(ctx context.Context, scope tenant.Scope, id int64, paymentID, payURL string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := changeBill(ctx, tx, scope, id, func(b *employer.Bill) bool {
			b.PaymentID, b.PayURL = paymentID, payURL
			return b.Status == employer.Issued
		})
		return err
	})
}

// Bill returns a bill the scope sees.
func (s *employerStore) Bill(ctx context.Context, scope tenant.Scope, id int64) (employer.Bill, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return sqlrow.ScanBill(s.pool.QueryRow(ctx, pgq(`SELECT `+sqlrow.BillColumns+` FROM employer_bills WHERE id = ?`+employerScoped), id, all, m))
}

// Bills lists an employer's bills, newest first.
func (s *employerStore) Bills(ctx context.Context, scope tenant.Scope, emp int64, limit int) ([]employer.Bill, error) {
	all, m := sqlrow.ScopeArgs(scope)
	return list(ctx, s.pool, "list bills", sqlrow.ScanBill, pgq(`SELECT `+sqlrow.BillColumns+` FROM employer_bills WHERE employer_id = ?`+employerScoped+` ORDER BY id DESC LIMIT ?`), emp, all, m, limit)
}

// PayBill marks an issued bill paid and posts its entry, together.
func (s *employerStore) PayBill(ctx context.Context, id int64, paymentID string, at time.Time, e ledger.Entry) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		ok, err = changeBill(ctx, tx, tenant.All(), id, func(b *employer.Bill) bool {
			if b.Status != employer.Issued {
				return false
			}
			b.Status, b.PaymentID, b.PaidAt = employer.Paid, paymentID, at
			return true
		})
		if !ok || err != nil {
			return err
		}
		_, err = postEntry(ctx, tx, e)
		return err
	})
	return ok, err
}

// Charged sums what redemptions drew from a party's prepaid account.
func (s *employerStore) Charged(ctx context.Context, prepaid ledger.Code, party string, from, to time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, fmt.Sprintf(sqlrow.ChargedQuery, "$1", "$2", "$3", "$4"), string(prepaid), party, sqlrow.At(from), sqlrow.At(to)).Scan(&n)
	return n, fault.Wrap(err, "sum employer charges")
}
