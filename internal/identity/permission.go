package identity

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
