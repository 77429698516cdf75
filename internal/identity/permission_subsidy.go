package identity

// Permissions of subsidies for special groups (SPEC M5).
const (
	SubsidyRead   Permission = "subsidy:read"   // see schemes' enrolments and the review queue
	SubsidyEdit   Permission = "subsidy:write"  // define subsidy schemes
	SubsidyReview Permission = "subsidy:review" // verify, reject and revoke enrolments
	SubsidyOwn    Permission = "subsidy:own"    // apply for a subsidy, see one's enrolments, ask to renew
)

// The roles holding the subsidy permissions, added to grants apart from
// its table.
func init() {
	for role, ps := range map[Role][]Permission{
		OperatorAdmin:    {SubsidyRead, SubsidyEdit, SubsidyReview},
		OperatorReviewer: {SubsidyRead, SubsidyReview},
		OperatorAuditor:  {SubsidyRead},
		Passenger:        {SubsidyOwn},
	} {
		grants[role] = append(grants[role], ps...)
	}
}
