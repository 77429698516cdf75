package sqlrow

// The coverage checks of passengers' purchases (internal/sale): every paid
// purchase has its payment's entry; every payment that bought nothing (a
// late or second payment, recorded in the purchase's returns) its entry
// coming in, keyed by payment, and what the gateway returned of them its
// entries going out, to the fen; every refund of a bought ticket its entry
// as accepted (with the ticket's revocation), and once the gateway paid
// it, its entry as paid.
func init() {
	LedgerChecks = append(LedgerChecks,
		LedgerCheck{"missing_entry", `SELECT 'buy:' || p.id, 'paid passenger purchase without its entry'
			FROM sale_purchases p WHERE p.status = 'paid'
			AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'buy:' || p.id || ':paid')`},
		LedgerCheck{"missing_entry", `SELECT 'buy:' || p.id, 'passenger purchase with a payment to return without the entry of that payment coming in'
			FROM sale_purchases p WHERE p.body LIKE '%"returns":[{%'
			AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.ref = 'buy:' || p.id AND j.key LIKE 'buy:' || p.id || ':late:%')`},
		LedgerCheck{"missing_entry", `SELECT 'buy:' || p.id, 'returned ' || p.returned_fen || ' fen of payments of a passenger purchase, entered coming in ' || COALESCE(l.fen, 0) || ' fen'
			FROM sale_purchases p LEFT JOIN (SELECT j.ref, SUM(jp.credit) AS fen FROM journal_entries j JOIN journal_postings jp ON jp.entry_id = j.id
				WHERE j.key LIKE 'buy:%:late:%' AND jp.account = '2241' GROUP BY j.ref) l ON l.ref = 'buy:' || p.id
			WHERE p.returned_fen > COALESCE(l.fen, 0)`},
		LedgerCheck{"missing_entry", `SELECT 'buy:' || p.id, 'returned ' || p.returned_fen || ' fen of payments of a passenger purchase, entered going out ' || COALESCE(r.fen, 0) || ' fen'
			FROM sale_purchases p LEFT JOIN (SELECT j.ref, SUM(jp.debit) AS fen FROM journal_entries j JOIN journal_postings jp ON jp.entry_id = j.id
				WHERE j.key LIKE 'buy:%:returned:%' AND jp.account = '2241' GROUP BY j.ref) r ON r.ref = 'buy:' || p.id
			WHERE p.returned_fen <> COALESCE(r.fen, 0)`},
		LedgerCheck{"missing_entry", `SELECT 'buy_refund:' || r.ticket_id, 'refund of a bought ticket without its entry'
			FROM sale_refunds r
			WHERE NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'buy:refund:' || r.ticket_id)`},
		LedgerCheck{"missing_entry", `SELECT 'buy_refund:' || r.ticket_id, 'refund of a bought ticket paid by the gateway without the entry of its payment'
			FROM sale_refunds r WHERE r.status = 'done'
			AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'buy:refund:' || r.ticket_id || ':paid')`},
	)
}
