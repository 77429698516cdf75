package sqlrow

// The coverage checks of employers' money (internal/employer): every paid
// top-up and every bill issued or paid has its journal entry.
func init() {
	LedgerChecks = append(LedgerChecks,
		LedgerCheck{"missing_entry", `SELECT 'topup:' || t.id, 'paid top-up without its entry' FROM employer_topups t
			WHERE t.status = 'paid' AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'topup:' || t.id || ':paid')`},
		LedgerCheck{"missing_entry", `SELECT 'bill:' || b.id, 'issued bill without its entry' FROM employer_bills b
			WHERE b.amount_fen > 0 AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'bill:' || b.employer_id || ':' || b.month)`},
		LedgerCheck{"missing_entry", `SELECT 'bill:' || b.id, 'paid bill without its entry' FROM employer_bills b
			WHERE b.status = 'paid' AND b.amount_fen > 0 AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'bill:' || b.employer_id || ':' || b.month || ':paid')`},
	)
}
