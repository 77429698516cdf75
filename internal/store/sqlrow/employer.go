package sqlrow

import (
	"encoding/json"

	"piao/internal/employer"
	"piao/internal/fault"
)

// EmployeeColumns are the columns of employees that ScanEmployee reads.
const EmployeeColumns = `id, employer_id, number, phone_sealed, status, COALESCE(account_id, 0), body`

// EmployeeRow is what an employee's row stores: its phone's index and
// sealed number beside the body, which holds neither.
func (p PII) EmployeeRow(e employer.Employee) (index, sealedPhone, body string, account any, err error) {
	index, sealedPhone = p.PhoneIndex(e.Phone), p.Keys.Seal(e.Phone)
	if e.Account != 0 {
		account = e.Account
	}
	e.ID, e.Phone = 0, ""
	b, err := json.Marshal(e)
	return index, sealedPhone, string(b), account, fault.Wrap(err, "encode employee")
}

// ScanEmployee reads EmployeeColumns, opening the phone; no row is
// employer.ErrNotFound.
func (p PII) ScanEmployee(r Row) (employer.Employee, error) {
	var e employer.Employee
	var id, emp, account int64
	var number, phone, status, body string
	if err := r.Scan(&id, &emp, &number, &phone, &status, &account, &body); err != nil {
		return e, NoRowsAs(fault.Wrap(err, "read employee"), employer.ErrNotFound)
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return e, fault.Wrap(err, "decode employee")
	}
	e.ID, e.Employer, e.Number, e.Status, e.Account = id, emp, number, employer.Status(status), account
	var err error
	e.Phone, err = p.open(phone, "employee phone")
	return e, err
}

// Body encodes a value stored whole as JSON (rules, top-ups, bills).
func Body(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), fault.Wrap(err, "encode row")
}

// RuleColumns are the columns of allowance_rules that ScanRule reads.
const RuleColumns = `id, body`

// ScanRule reads RuleColumns; no row is employer.ErrNoRule.
func ScanRule(r Row) (employer.AllowanceRule, error) {
	var x employer.AllowanceRule
	var id int64
	var body string
	if err := r.Scan(&id, &body); err != nil {
		return x, NoRowsAs(fault.Wrap(err, "read allowance rule"), employer.ErrNoRule)
	}
	err := json.Unmarshal([]byte(body), &x)
	x.ID = id
	return x, fault.Wrap(err, "decode allowance rule")
}

// TopUpColumns are the columns of employer_topups that ScanTopUp reads.
const TopUpColumns = `id, status, body`

// ScanTopUp reads TopUpColumns; no row is employer.ErrTopUpNotFound.
func ScanTopUp(r Row) (employer.TopUp, error) {
	var t employer.TopUp
	var id int64
	var status, body string
	if err := r.Scan(&id, &status, &body); err != nil {
		return t, NoRowsAs(fault.Wrap(err, "read top-up"), employer.ErrTopUpNotFound)
	}
	err := json.Unmarshal([]byte(body), &t)
	t.ID, t.Status = id, employer.PayStatus(status)
	return t, fault.Wrap(err, "decode top-up")
}

// BillColumns are the columns of employer_bills that ScanBill reads.
const BillColumns = `id, status, body`

// ScanBill reads BillColumns; no row is employer.ErrBillNotFound.
func ScanBill(r Row) (employer.Bill, error) {
	var b employer.Bill
	var id int64
	var status, body string
	if err := r.Scan(&id, &status, &body); err != nil {
		return b, NoRowsAs(fault.Wrap(err, "read bill"), employer.ErrBillNotFound)
	}
	err := json.Unmarshal([]byte(body), &b)
	b.ID, b.Status = id, employer.PayStatus(status)
	return b, fault.Wrap(err, "decode bill")
}

// ChargedQuery sums, for a prepaid account (first parameter), a party
// (second) and [from, to) (third and fourth), what entries other than top-ups and bills drew from the
// employer's prepaid account: settlement's redemptions and their
// reversals. Its placeholders are each engine's.
const ChargedQuery = `SELECT COALESCE(SUM(p.debit - p.credit), 0) FROM journal_postings p JOIN journal_entries e ON e.id = p.entry_id
	WHERE p.account = %s AND p.party = %s AND e.at >= %s AND e.at < %s AND e.kind NOT IN ('top_up', 'bill')`
