package identity

import (
	"slices"

	"piao/internal/fault"
	"piao/internal/tenant"
)

// Permission is something a route needs. Routes declare exactly one.
type Permission string

// Permissions. Public and Authenticated are special: the first needs no
// login, the second any valid login.
const (
	Public        Permission = "public"
	Authenticated Permission = "authenticated"

	NetworkWrite Permission = "network:write" // edit fares and car layouts, import feeds
	AccountsRead Permission = "accounts:read" // see other accounts
	AccountsEdit Permission = "accounts:write"
	AuditRead    Permission = "audit:read"
	PIIRead      Permission = "pii:read"      // see full ID and phone numbers on request (?full=true); every view is audited
	OrdersOwn    Permission = "orders:own"    // book, pay, cancel, refund one's own orders
	OrdersRead   Permission = "orders:read"   // see any order and check inventory
	BookingAdmin Permission = "booking:admin" // edit refund and change fee tables and governance rules

	GovernanceRead Permission = "governance:read"  // see lists, cancel counts and behaviour reports
	GovernanceEdit Permission = "governance:write" // add, lift and extend list memberships; run the list rules

	BenefitsRead   Permission = "benefits:read"   // see products, campaigns, their audit trails and statistics
	BenefitsEdit   Permission = "benefits:write"  // define products and campaigns, submit them, issue directly, generate codes
	BenefitsReview Permission = "benefits:review" // approve, reject, pause, resume and terminate campaigns
	BenefitsSettle Permission = "benefits:settle" // apply a rider's benefits to a ride (metro settlement, gates)
	WalletOwn      Permission = "wallet:own"      // claim, redeem codes, hold, gift and accept value-added tickets

	TapsWrite   Permission = "metro:taps"   // send gate taps (batch and stream)
	MetroRead   Permission = "metro:read"   // see cleared trips, their ledger lines and benefit use by station and hour
	MetroSettle Permission = "metro:settle" // clear taps into trips and settle them
)

// grants says which permissions each role holds, beyond Public and Authenticated.
var grants = map[Role][]Permission{
	OperatorAdmin:    {NetworkWrite, AccountsRead, AccountsEdit, AuditRead, PIIRead, OrdersRead, BookingAdmin, GovernanceRead, GovernanceEdit, BenefitsRead, BenefitsEdit, BenefitsReview, BenefitsSettle, MetroRead, MetroSettle},
	OperatorReviewer: {AccountsRead, OrdersRead, GovernanceRead, GovernanceEdit, BenefitsRead, BenefitsReview, MetroRead},
	OperatorAuditor:  {AccountsRead, AuditRead, OrdersRead, GovernanceRead, BenefitsRead, MetroRead},
	Passenger:        {OrdersOwn, WalletOwn},
	Gate:             {BenefitsSettle, TapsWrite},
}

// Allowed reports whether a principal with role (empty for anonymous) may
// use something that needs p.
func Allowed(role Role, p Permission) bool {
	switch p {
	case Public:
		return true
	case Authenticated:
		return role != ""
	}
	for _, g := range grants[role] {
		if g == p {
			return true
		}
	}
	return false
}

// Permissions of merchants and their review (SPEC B1, B2, C2). The four
// delegable ones are what a merchant's admin hands its staff (分权); a
// merchant_staff account holds only those its Grants name.
const (
	MerchantCampaigns    Permission = "merchant:campaigns"    // define the merchant's products and campaigns and submit them
	MerchantDistribution Permission = "merchant:distribution" // issue to lists, make codes and claim links, revoke what was not delivered
	MerchantReports      Permission = "merchant:reports"      // the dashboard, campaign numbers and exports
	MerchantFinance      Permission = "merchant:finance"      // buy stock, top up, ask for refunds, see charges
	MerchantUsers        Permission = "merchant:users"        // invite staff and grant them permissions (the merchant's admin)
	MerchantsRead        Permission = "merchants:read"        // operator: see merchants, applications and their papers
	MerchantsReview      Permission = "merchants:review"      // operator: approve, reject, ask for more, suspend, reinstate
)

// Delegable lists the merchant permissions an admin may grant its staff.
var Delegable = []Permission{MerchantCampaigns, MerchantDistribution, MerchantReports, MerchantFinance}

// The roles holding the merchant permissions, added to grants apart from
// its table.
func init() {
	for role, ps := range map[Role][]Permission{
		OperatorAdmin:    {MerchantsRead, MerchantsReview},
		OperatorReviewer: {MerchantsRead, MerchantsReview},
		OperatorAuditor:  {MerchantsRead},
		MerchantAdmin:    append(slices.Clone(Delegable), MerchantUsers),
		MerchantStaff:    slices.Clone(Delegable),
	} {
		grants[role] = append(grants[role], ps...)
	}
}

// merchantRole reports whether r works for a merchant.
func merchantRole(r Role) bool { return r == MerchantAdmin || r == MerchantStaff }

// Can reports whether the principal may use something that needs perm: its
// role must allow it; a merchant's account must name its merchant; and a
// merchant_staff account holds a delegable permission only if its admin
// granted it.
func (p Principal) Can(perm Permission) bool {
	if !Allowed(p.Role(), perm) {
		return false
	}
	if !merchantRole(p.Role()) || perm == Public || perm == Authenticated {
		return true
	}
	if p.Account.Merchant < 1 {
		return false
	}
	return p.Role() == MerchantAdmin || slices.Contains(p.Account.Grants, perm)
}

// Tenant is whose merchant-owned rows the principal sees: the operator's
// staff every merchant's, a merchant's account its merchant's, anyone
// else none.
func (p Principal) Tenant() tenant.Scope {
	switch p.Role() {
	case OperatorAdmin, OperatorReviewer, OperatorAuditor:
		return tenant.All()
	case MerchantAdmin, MerchantStaff:
		return tenant.Merchant(p.Account.Merchant)
	}
	return tenant.Scope{}
}

// ValidGrants checks a staff account's grants: delegable permissions only.
func ValidGrants(gs []Permission) error {
	for _, g := range gs {
		if !slices.Contains(Delegable, g) {
			return fault.Newf(fault.Invalid, "bad_grant", "不能授予权限 %q", "%q cannot be granted to staff", g)
		}
	}
	return nil
}
