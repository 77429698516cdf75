package merchant_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/merchant"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
	"piao/internal/testclock"
)

var pdf = []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")

// faultyMerchants is a merchant store that fails UpdateMerchant while
// failUpdates is above 0, and runs beforeRead (once) inside the next
// Merchant read, answering what it read before.
type faultyMerchants struct {
	merchant.Store
	mu          sync.Mutex
	failUpdates int
	beforeRead  func()
}

func (f *faultyMerchants) UpdateMerchant(ctx context.Context, scope tenant.Scope, m merchant.Merchant, from merchant.Status, ev merchant.Event) error {
	f.mu.Lock()
	fail := f.failUpdates > 0
	if fail {
		f.failUpdates--
	}
	f.mu.Unlock()
	if fail {
		return merchant.ErrStale
	}
	return f.Store.UpdateMerchant(ctx, scope, m, from, ev)
}

func (f *faultyMerchants) Merchant(ctx context.Context, scope tenant.Scope, id int64) (merchant.Merchant, error) {
	m, err := f.Store.Merchant(ctx, scope, id)
	f.mu.Lock()
	hook := f.beforeRead
	f.beforeRead = nil
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	return m, err
}

// faultyAccounts is an identity store whose SetDisabled fails once for
// the account failDisable names.
type faultyAccounts struct {
	identity.Store
	mu          sync.Mutex
	failDisable int64
}

func (f *faultyAccounts) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	f.mu.Lock()
	fail := disabled && id == f.failDisable
	if fail {
		f.failDisable = 0
	}
	f.mu.Unlock()
	if fail {
		return fault.New(fault.Unavailable, "store_down", "存储不可用", "the store is down")
	}
	return f.Store.SetDisabled(ctx, id, disabled)
}

type env struct {
	svc       *merchant.Service
	merchants *faultyMerchants
	accounts  *faultyAccounts
}

func newEnv(t *testing.T, s storetest.Stores) *env {
	t.Helper()
	clock := testclock.New(time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC))
	accounts := &faultyAccounts{Store: s.Identity}
	ids := identity.NewService(accounts, clock.Now)
	ids.Params = identity.Params{Memory: 1024, Time: 1, Threads: 1}
	merchants := &faultyMerchants{Store: s.DB.Merchant()}
	return &env{svc: merchant.NewService(merchants, ids, nil, clock.Now), merchants: merchants, accounts: accounts}
}

// apply applies as a merchant whose admin logs in as admin.
func (e *env) apply(t *testing.T, code, admin string) merchant.Merchant {
	t.Helper()
	r, err := e.svc.Apply(context.Background(), merchant.Application{LegalName: "万象商城有限公司", CreditCode: code,
		Contact: merchant.Contact{Name: "张三", Phone: "13912345678"}, AdminUsername: admin, AdminPassword: "correct horse battery",
		Papers: []merchant.Upload{{Kind: merchant.Licence, Name: "执照.pdf", Data: pdf}}})
	if err != nil {
		t.Fatal(err)
	}
	return r.Merchant
}

// canLogIn reports whether username logs in with password.
func (e *env) canLogIn(username, password string) bool {
	_, _, err := e.svc.Identity.Login(context.Background(), username, password, identity.SessionToken)
	return err == nil
}

// staff invites username to merchant m and accepts it.
func (e *env) staff(t *testing.T, m int64, username string) (identity.Account, error) {
	t.Helper()
	inv, err := e.svc.Invite(context.Background(), tenant.Merchant(m), merchant.Invite{Username: username, Grants: []identity.Permission{identity.MerchantReports}})
	if err != nil {
		t.Fatal(err)
	}
	return e.svc.AcceptInvitation(context.Background(), inv.Token, "clerk password")
}

func reasonOf(err error) string {
	if fe := fault.As(err); fe != nil {
		return fe.Reason
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestApprovalRetryAdoptsLogin: an approval whose merchant update failed
// leaves its admin login disabled; approving again adopts that login
// rather than refusing its username, and the admin logs in.
func TestApprovalRetryAdoptsLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s)
		ctx := context.Background()
		m := e.apply(t, "91350100M000100Y43", "mall-admin")
		e.merchants.failUpdates = 1
		if _, err := e.svc.Review(ctx, tenant.All(), m.ID, merchant.Approve, ""); reasonOf(err) != "merchant_changed" {
			t.Fatalf("approval with a failing update: %v", err)
		}
		if e.canLogIn("mall-admin", "correct horse battery") {
			t.Fatal("the login of a failed approval works")
		}
		got, err := e.svc.Review(ctx, tenant.All(), m.ID, merchant.Approve, "")
		if err != nil {
			t.Fatalf("approving again: %v", err)
		}
		if got.Status != merchant.Approved || got.AdminAccount == 0 {
			t.Fatalf("approved %+v", got)
		}
		if !e.canLogIn("mall-admin", "correct horse battery") {
			t.Fatal("the adopted admin cannot log in")
		}
		accs, err := s.Identity.MerchantAccounts(ctx, m.ID)
		if err != nil || len(accs) != 1 || accs[0].ID != got.AdminAccount {
			t.Fatalf("the merchant's accounts %+v %v: want the one admin", accs, err)
		}

		// Another merchant's login holding the username is not adopted.
		other := e.apply(t, "9144030071526726XG", "bank-admin")
		if _, err := e.svc.Identity.CreateAccount(ctx, identity.NewAccount{Username: "bank-admin", Role: identity.MerchantAdmin, Merchant: m.ID, Password: "another password"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Review(ctx, tenant.All(), other.ID, merchant.Approve, ""); reasonOf(err) != "username_taken" {
			t.Fatalf("approving with another merchant's username: %v", err)
		}
	})
}

// TestSuspensionFinishable: a suspension cut short by a failure leaves a
// login enabled; suspending again finishes it, and reinstatement gives
// back every login the suspension took.
func TestSuspensionFinishable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s)
		ctx := context.Background()
		m := e.apply(t, "91350100M000100Y43", "mall-admin")
		m, err := e.svc.Review(ctx, tenant.All(), m.ID, merchant.Approve, "")
		if err != nil {
			t.Fatal(err)
		}
		clerk, err := e.staff(t, m.ID, "clerk")
		if err != nil {
			t.Fatal(err)
		}
		e.accounts.failDisable = clerk.ID
		if _, err := e.svc.Review(ctx, tenant.All(), m.ID, merchant.Suspend, "投诉核查"); reasonOf(err) != "store_down" {
			t.Fatalf("suspension with a failing store: %v", err)
		}
		if !e.canLogIn("clerk", "clerk password") {
			t.Fatal("the injected failure did not leave the clerk enabled: the test shows nothing")
		}
		if _, err := e.svc.Review(ctx, tenant.All(), m.ID, merchant.Suspend, "投诉核查（重试）"); err != nil {
			t.Fatalf("suspending again: %v", err)
		}
		for _, u := range []struct{ name, pw string }{{"mall-admin", "correct horse battery"}, {"clerk", "clerk password"}} {
			if e.canLogIn(u.name, u.pw) {
				t.Errorf("%s logs in after the suspension was finished", u.name)
			}
		}
		if _, err := e.svc.Review(ctx, tenant.All(), m.ID, merchant.Reinstate, ""); err != nil {
			t.Fatal(err)
		}
		for _, u := range []struct{ name, pw string }{{"mall-admin", "correct horse battery"}, {"clerk", "clerk password"}} {
			if !e.canLogIn(u.name, u.pw) {
				t.Errorf("%s cannot log in after reinstatement", u.name)
			}
		}
		events, err := e.svc.Store.Events(ctx, tenant.All(), m.ID)
		if err != nil || len(events) != 5 || events[3].From != merchant.Suspended || events[3].To != merchant.Suspended {
			t.Fatalf("events %+v %v: want the second suspension recorded", events, err)
		}
	})
}

// TestInvitationAcceptedDuringSuspension: a suspension that lands between
// an invitation's check of the merchant and its new login does not leave
// that login working.
func TestInvitationAcceptedDuringSuspension(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s)
		ctx := context.Background()
		m := e.apply(t, "91350100M000100Y43", "mall-admin")
		m, err := e.svc.Review(ctx, tenant.All(), m.ID, merchant.Approve, "")
		if err != nil {
			t.Fatal(err)
		}
		inv, err := e.svc.Invite(ctx, tenant.Merchant(m.ID), merchant.Invite{Username: "clerk"})
		if err != nil {
			t.Fatal(err)
		}
		// The accept reads the merchant approved; the suspension runs to
		// the end before the accept makes the login.
		e.merchants.beforeRead = func() {
			if _, err := e.svc.Review(ctx, tenant.All(), m.ID, merchant.Suspend, "投诉核查"); err != nil {
				t.Errorf("suspension: %v", err)
			}
		}
		if _, err := e.svc.AcceptInvitation(ctx, inv.Token, "clerk password"); reasonOf(err) != "merchant_not_active" {
			t.Fatalf("accepted during the suspension: %v", err)
		}
		if e.canLogIn("clerk", "clerk password") {
			t.Fatal("a suspended merchant's new staff login works")
		}
		if got, _ := e.svc.Merchant(ctx, tenant.All(), m.ID); got.Status != merchant.Suspended {
			t.Fatalf("merchant %s, want suspended: the hook did not run", got.Status)
		}
	})
}
