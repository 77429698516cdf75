package identity_test

import (
	"testing"

	"piao/internal/identity"
	"piao/internal/tenant"
)

func TestMerchantPermissions(t *testing.T) {
	admin := identity.Principal{Account: identity.Account{ID: 1, Role: identity.MerchantAdmin, Merchant: 7}}
	staff := identity.Principal{Account: identity.Account{ID: 2, Role: identity.MerchantStaff, Merchant: 7, Grants: []identity.Permission{identity.MerchantReports}}}
	orphan := identity.Principal{Account: identity.Account{ID: 3, Role: identity.MerchantAdmin}}
	reviewer := identity.Principal{Account: identity.Account{ID: 4, Role: identity.OperatorReviewer}}
	passenger := identity.Principal{Account: identity.Account{ID: 5, Role: identity.Passenger}}
	cases := []struct {
		who  string
		p    identity.Principal
		perm identity.Permission
		can  bool
	}{
		{"admin campaigns", admin, identity.MerchantCampaigns, true},
		{"admin users", admin, identity.MerchantUsers, true},
		{"admin is no reviewer", admin, identity.MerchantsReview, false},
		{"admin is no operator", admin, identity.BenefitsRead, false},
		{"staff granted reports", staff, identity.MerchantReports, true},
		{"staff not granted finance", staff, identity.MerchantFinance, false},
		{"staff never users", staff, identity.MerchantUsers, false},
		{"staff is authenticated", staff, identity.Authenticated, true},
		{"admin without merchant", orphan, identity.MerchantCampaigns, false},
		{"reviewer reviews merchants", reviewer, identity.MerchantsReview, true},
		{"reviewer is no merchant", reviewer, identity.MerchantCampaigns, false},
		{"passenger is no merchant", passenger, identity.MerchantReports, false},
	}
	for _, c := range cases {
		if got := c.p.Can(c.perm); got != c.can {
			t.Errorf("%s: Can(%s) = %v, want %v", c.who, c.perm, got, c.can)
		}
	}
	if s := staff.Tenant(); s.MerchantID() != 7 || s.IsAll() {
		t.Errorf("staff tenant = %v", s)
	}
	if !reviewer.Tenant().IsAll() || passenger.Tenant() != (tenant.Scope{}) {
		t.Error("operator must see all, a passenger nothing")
	}
	if err := identity.ValidGrants([]identity.Permission{identity.MerchantUsers}); err == nil {
		t.Error("granting merchant:users to staff must be refused")
	}
}
