package identity

// Permissions of the operator's money (SPEC B5): the ledger, reconciliation
// with the payment channel, statements and invoices.
const (
	LedgerRead  Permission = "ledger:read"  // see journal entries, balances, the trial balance, reconciliations, statements and invoices
	LedgerWrite Permission = "ledger:write" // post reversals and write-offs, run reconciliation, issue and reverse invoices
)

// The roles holding the ledger permissions, added to grants apart from its
// table: the auditor reads the books, only the admin writes them.
func init() {
	for role, ps := range map[Role][]Permission{
		OperatorAdmin:   {LedgerRead, LedgerWrite},
		OperatorAuditor: {LedgerRead},
	} {
		grants[role] = append(grants[role], ps...)
	}
}
