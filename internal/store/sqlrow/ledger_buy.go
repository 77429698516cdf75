package sqlrow

// The coverage checks of passengers' purchases (internal/sale): every paid
// purchase has its payment's entry, every payment returned for a closed
// purchase its return's, and every refund of a bought ticket (entered with
// the ticket's revocation) its entry.
func init() {
	LedgerChecks = append(LedgerChecks,
		LedgerCheck{"missing_entry", `SELECT 'buy:' || p.id, 'paid passenger purchase without its entry'
			FROM sale_purchases p WHERE p.status = 'paid'
			AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'buy:' || p.id || ':paid')`},
		LedgerCheck{"missing_entry", `SELECT 'buy:' || p.id, 'returned payment of a closed passenger purchase without its entry'
			FROM sale_purchases p WHERE p.returned_fen > 0
			AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'buy:' || p.id || ':returned')`},
		LedgerCheck{"missing_entry", `SELECT 'buy_refund:' || r.ticket_id, 'refund of a bought ticket without its entry'
			FROM sale_refunds r
			WHERE NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'buy:refund:' || r.ticket_id)`},
	)
}
