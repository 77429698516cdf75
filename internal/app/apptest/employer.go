package apptest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"piao/internal/employer"
	"piao/internal/identity"
	"piao/internal/ledger"
)

// EmployerRows are a merchant fixture's employee-benefit rows: an employee
// (named with the fixture's marker, linked by phone to a passenger), its
// allowance rule (prepaid, submitted for review), a pending top-up and an
// issued bill.
type EmployerRows struct {
	Employee employer.Employee
	Rule     employer.AllowanceRule
	TopUp    employer.TopUp
	Bill     employer.Bill
	// Passenger is the employee's passenger account.
	Passenger int64
}

var employerRows sync.Map // *MerchantFixture → *EmployerRows

// Employer makes f's employee-benefit rows on first use (the app must be
// started: the top-up needs the payment gateway) and returns them.
func (f *MerchantFixture) Employer(tb testing.TB) *EmployerRows {
	tb.Helper()
	if r, ok := employerRows.Load(f); ok {
		return r.(*EmployerRows)
	}
	ctx, a := context.Background(), f.App
	phone := fmt.Sprintf("1370000%04d", f.Merchant%10000)
	acct, err := a.Identity.CreateAccount(ctx, identity.NewAccount{Username: fmt.Sprintf("emp-%d", f.Merchant), Phone: phone, DisplayName: "员工",
		Role: identity.Passenger, Password: "fixture-password"})
	if err != nil {
		tb.Fatal(err)
	}
	r := &EmployerRows{Passenger: acct.ID}
	if r.Employee, err = a.Employers.Add(ctx, f.Scope, employer.Employee{Number: fmt.Sprintf("E%d", f.Merchant), Name: "员工 " + f.Marker, Phone: phone, Department: "财务部"}); err != nil {
		tb.Fatal(err)
	}
	if r.Rule, err = a.Employers.CreateRule(ctx, f.Scope, employer.AllowanceRule{Rides: 10, Feed: "nbmetro", Offboard: employer.RevokeUnused, Paying: employer.Prepaid}, fmt.Sprintf("merchant-%d-admin", f.Merchant)); err != nil {
		tb.Fatal(err)
	}
	if r.TopUp, err = a.Employers.CreateTopUp(ctx, f.Scope, acct.ID, 10_000); err != nil {
		tb.Fatal(err)
	}
	now := a.Now()
	b := employer.Bill{Employer: f.Merchant, Month: "2000-01", AmountFen: 100, Status: employer.Issued, CreatedAt: now,
		Buyer: employer.InvoiceBuyer{Name: "fixture " + f.Marker}, Lines: []employer.ChargeLine{{ZH: "通勤补贴", EN: "Travel allowance", AmountFen: 100}}}
	// The fixture merchants are of kind "merchant": their prepaid value is in MerchantPrepaid.
	if r.Bill, _, err = a.EmployerStore.CreateBill(ctx, b, employer.BillEntry(b, ledger.MerchantPrepaid, now)); err != nil {
		tb.Fatal(err)
	}
	actual, _ := employerRows.LoadOrStore(f, r)
	return actual.(*EmployerRows)
}
