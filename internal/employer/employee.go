// Package employer is employee benefits (SPEC B3): an employer — a
// merchant organisation of kind "employer" — keeps a roster of its
// employees, links each to a passenger account (by phone or by a one-time
// invitation), and gives the active ones a monthly travel allowance under
// one rule: N rides a month, in a scope, issued once per employee and
// month. The employer pays for the rides its allowance pays for, from a
// prepaid balance topped up through the payment gateway or on a monthly
// bill.
//
// The allowance is a benefits campaign the employer owns, so settlement
// charges its rides to the employer like any merchant campaign's. The
// rules are here; storage is behind Store, tickets behind Benefits, money
// behind payment.Gateway. The package imports no store and no adapter.
package employer

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"piao/internal/fault"
	"piao/internal/network"
)

// Status is whether an employee is on the roster's active list.
type Status string

// Employee statuses.
const (
	Active     Status = "active"     // employed: gets the monthly allowance once linked
	Offboarded Status = "offboarded" // left: gets nothing more
)

// Employee is one line of an employer's roster. The phone is personal
// data: sealed at rest, masked in answers.
type Employee struct {
	ID         int64        `json:"id"`
	Employer   int64        `json:"employer_id"`
	Number     string       `json:"number"` // the employer's own employee number, unique in its roster
	Name       string       `json:"name"`
	Phone      string       `json:"phone"`
	Department string       `json:"department,omitempty"`
	Status     Status       `json:"status"`
	Joined     network.Date `json:"joined,omitzero"`
	Left       network.Date `json:"left,omitzero"`
	// Account is the passenger account the allowance goes to, once linked.
	Account   int64     `json:"account,omitempty"`
	LinkedAt  time.Time `json:"linked_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Subject is how the audit trail names an employee.
func Subject(id int64) string { return "employee:" + strconv.FormatInt(id, 10) }

// EmployeeEdit is what an employer may change of an employee; nil fields stay.
type EmployeeEdit struct {
	Number     *string `json:"number,omitempty"`
	Name       *string `json:"name,omitempty"`
	Phone      *string `json:"phone,omitempty"`
	Department *string `json:"department,omitempty"`
	Joined     *string `json:"joined,omitempty"`
}

// Apply changes e by the edit and checks the result.
func (ed EmployeeEdit) Apply(e *Employee) error {
	if ed.Number != nil {
		e.Number = *ed.Number
	}
	if ed.Name != nil {
		e.Name = *ed.Name
	}
	if ed.Phone != nil {
		e.Phone = *ed.Phone
	}
	if ed.Department != nil {
		e.Department = *ed.Department
	}
	if ed.Joined != nil {
		d, err := parseDate(*ed.Joined)
		if err != nil {
			return err
		}
		e.Joined = d
	}
	return e.Normalise()
}

// field is one checked field's refusal: the column it names and why.
type field struct {
	column string
	err    error
}

func (f *field) Error() string { return f.err.Error() }

// Normalise trims an employee's fields and checks them.
func (e *Employee) Normalise() error {
	if f := e.check(); f != nil {
		return f.err
	}
	return nil
}

func (e *Employee) check() *field {
	e.Number, e.Name = strings.TrimSpace(e.Number), strings.TrimSpace(e.Name)
	e.Phone, e.Department = strings.TrimSpace(e.Phone), strings.TrimSpace(e.Department)
	bad := func(column, reason, zh, en string) *field {
		return &field{column, fault.New(fault.Invalid, reason, zh, en)}
	}
	switch {
	case !validNumber(e.Number):
		return bad("number", "bad_employee_number", "工号须为 1–32 个字母、数字、- 或 _", "the employee number is 1–32 letters, digits, - or _")
	case utf8.RuneCountInString(e.Name) < 1 || utf8.RuneCountInString(e.Name) > 50 || hasControl(e.Name):
		return bad("name", "bad_employee_name", "姓名须为 1–50 个字符", "the name is 1–50 characters")
	case !ValidPhone(e.Phone):
		return bad("phone", "bad_phone", "手机号须为 11 位数字，以 1 开头", "a phone number is 11 digits starting with 1")
	case utf8.RuneCountInString(e.Department) > 50 || hasControl(e.Department):
		return bad("department", "bad_department", "部门最多 50 个字符", "the department is at most 50 characters")
	}
	return nil
}

func validNumber(s string) bool {
	if len(s) < 1 || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// ValidPhone reports whether p is a mainland mobile number: 11 digits
// starting with 1.
func ValidPhone(p string) bool {
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

// parseDate reads a YYYY-MM-DD date; empty is the zero date.
func parseDate(s string) (network.Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return network.Date{}, nil
	}
	d, err := network.ParseDate(s)
	if err != nil {
		return d, fault.Newf(fault.Invalid, "bad_date", "日期 %q 应为 YYYY-MM-DD", "the date %q is not YYYY-MM-DD", s)
	}
	return d, nil
}

// Filter selects employees of a roster.
type Filter struct {
	Status Status // empty: every status
	// AfterID pages forwards: only employees with a larger ID.
	AfterID int64
	Limit   int // default 100, at most 10,000
}

// Bounded returns f with its limit defaulted and capped.
func (f Filter) Bounded() Filter {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, MaxRoster)
	return f
}

// MaxRoster is the most employees one import adds and one page lists.
const MaxRoster = 10_000
