package tenant_test

import (
	"testing"

	"piao/internal/tenant"
)

func TestScopes(t *testing.T) {
	all, a, b, none := tenant.All(), tenant.Merchant(7), tenant.Merchant(8), tenant.Scope{}
	cases := []struct {
		name  string
		scope tenant.Scope
		owner string
		sees  bool
	}{
		{"operator sees a merchant", all, "merchant:7", true},
		{"operator sees its own", all, "operator", true},
		{"merchant sees its own", a, "merchant:7", true},
		{"merchant never sees another", b, "merchant:7", false},
		{"merchant never sees the operator's", a, "operator", false},
		{"merchant never sees an individual's", a, "account:7", false},
		{"zero scope sees nothing", none, "merchant:0", false},
		{"zero scope sees no merchant", none, "merchant:7", false},
		{"a bad owner is nobody's", a, "merchant:7x", false},
		{"a negative merchant sees nothing", tenant.Merchant(-7), "merchant:-7", false},
	}
	for _, c := range cases {
		if got := c.scope.SeesOwner(c.owner); got != c.sees {
			t.Errorf("%s: %v.SeesOwner(%q) = %v", c.name, c.scope, c.owner, got)
		}
	}
	if a.Owner() != "merchant:7" || all.Owner() != "" || none.Owner() != "" {
		t.Errorf("owners: %q %q %q", a.Owner(), all.Owner(), none.Owner())
	}
	if !all.IsAll() || a.IsAll() || none.IsAll() || a.MerchantID() != 7 || all.MerchantID() != 0 {
		t.Error("IsAll or MerchantID wrong")
	}
}
