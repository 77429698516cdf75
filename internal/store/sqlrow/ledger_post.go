package sqlrow

import "piao/internal/fault"

// MerchantKind is a merchant organisation's ID and kind, as read back.
type MerchantKind struct {
	ID   int64
	Kind string
}

// ScanMerchantKind reads (id, kind) of merchants.
func ScanMerchantKind(r Row) (MerchantKind, error) {
	var k MerchantKind
	err := r.Scan(&k.ID, &k.Kind)
	return k, fault.Wrap(err, "read merchant kind")
}

// MerchantKinds maps merchants to their kinds.
func MerchantKinds(ks []MerchantKind) map[int64]string {
	m := make(map[int64]string, len(ks))
	for _, k := range ks {
		m[k.ID] = k.Kind
	}
	return m
}

// The coverage checks of the money events that existed before the journal
// and now post to it (issue 24): rail orders, ticket refunds and changes,
// waitlist prepayments, merchant purchases and campaign refunds, and metro
// settlement. Each finds business events that have no entry (and for rail
// refunds and changes, entries that have no event); the keys are those of
// booking, purchase and metro (booking.OrderPaidKey, …).
func init() {
	LedgerChecks = append(LedgerChecks,
		LedgerCheck{"missing_entry", `SELECT 'trip_seq:' || s.trip_seq, 'settled trip of ' || s.fare || ' fen without its settlement entry'
			FROM metro_settlements s WHERE s.journal_entry IS NULL AND s.fare > 0`},
		LedgerCheck{"settlement_differs", `SELECT 'entry:' || s.journal_entry,
				'fare revenue ' || COALESCE(p.c, 0) || ' fen, its trips'' fares ' || s.f || ' fen'
			FROM (SELECT journal_entry, SUM(fare) AS f FROM metro_settlements WHERE journal_entry IS NOT NULL GROUP BY journal_entry) s
			LEFT JOIN (SELECT entry_id, SUM(credit) - SUM(debit) AS c FROM journal_postings WHERE account = '6001' GROUP BY entry_id) p
				ON p.entry_id = s.journal_entry
			WHERE COALESCE(p.c, 0) <> s.f`},
		// A waitlist entry's order is paid from its prepayment, whose
		// entry names the same gateway payment.
		LedgerCheck{"missing_entry", `SELECT 'order:' || o.id, 'paid order without its payment entry'
			FROM orders o WHERE o.payment_id <> ''
				AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'order:' || o.id || ':paid')
				AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.external = o.payment_id AND j.key LIKE 'waitlist:%:paid')`},
		LedgerCheck{"missing_entry", `SELECT 'ticket:' || t.id, 'refunded ticket without its refund entry'
			FROM tickets t WHERE t.status = 'refunded'
				AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'ticket:' || t.id || ':refund')`},
		LedgerCheck{"missing_entry", `SELECT 'ticket:' || t.id, 'ticket changed to a cheaper one without its change entry'
			FROM tickets t JOIN tickets n ON n.id = t.changed_to
			WHERE t.status = 'changed' AND n.fare_fen < t.fare_fen
				AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'ticket:' || t.id || ':change')`},
		// The reverse: an entry for a refund or change that did not
		// happen (say, a refused request that left its entry behind). An
		// entry corrected by a reversal is not counted.
		LedgerCheck{"entry_without_event", `SELECT j.key, 'refund entry of a ticket that is not refunded'
			FROM journal_entries j WHERE j.key LIKE 'ticket:%:refund'
				AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = CAST(substr(j.key, 8, length(j.key) - 14) AS BIGINT) AND t.status = 'refunded')
				AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses = j.id)`},
		LedgerCheck{"entry_without_event", `SELECT j.key, 'change entry of a ticket that is not changed'
			FROM journal_entries j WHERE j.key LIKE 'ticket:%:change'
				AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = CAST(substr(j.key, 8, length(j.key) - 14) AS BIGINT) AND t.status = 'changed')
				AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses = j.id)`},
		// Refunds the gateway paid (booking records them as refund_paid
		// events, the refund ID in the actor) and their entries, both ways.
		LedgerCheck{"missing_entry", `SELECT 'ticket:' || e.ticket_id, 'refund ' || substr(e.actor, 8) || ' paid without its entry'
			FROM order_events e WHERE e.action = 'refund_paid'
				AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.external = substr(e.actor, 8) AND j.kind = 'refund')`},
		LedgerCheck{"entry_without_event", `SELECT j.key, 'refund ' || j.external || ' posted as paid, but not recorded as paid'
			FROM journal_entries j WHERE (j.key LIKE 'ticket:%:refund_paid%' OR j.key LIKE 'ticket:%:change_paid')
				AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = CAST(substr(j.ref, 7) AS BIGINT)
					AND e.action = 'refund_paid' AND e.actor = 'refund:' || j.external)
				AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses = j.id)`},
		// Waitlist refunds: owed (refund_fen is in the body only when not
		// zero) and sent.
		LedgerCheck{"missing_entry", `SELECT 'waitlist:' || w.id, 'waitlist refund owed without its entry'
			FROM waitlist_entries w WHERE w.body LIKE '%"refund_fen":%'
				AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'waitlist:' || w.id || ':refund')`},
		LedgerCheck{"missing_entry", `SELECT 'waitlist:' || w.id, 'waitlist refund sent without its paid entry'
			FROM waitlist_entries w WHERE w.body LIKE '%"refund_fen":%' AND w.body LIKE '%"refund_sent":true%'
				AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'waitlist:' || w.id || ':refund_paid')`},
		LedgerCheck{"entry_without_event", `SELECT j.key, 'waitlist refund entry without the refund'
			FROM journal_entries j WHERE j.key LIKE 'waitlist:%:refund'
				AND NOT EXISTS (SELECT 1 FROM waitlist_entries w WHERE w.id = CAST(substr(j.key, 10, length(j.key) - 16) AS BIGINT) AND w.body LIKE '%"refund_fen":%')
				AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses = j.id)`},
		LedgerCheck{"entry_without_event", `SELECT j.key, 'waitlist refund posted as paid, but not sent'
			FROM journal_entries j WHERE j.key LIKE 'waitlist:%:refund_paid'
				AND NOT EXISTS (SELECT 1 FROM waitlist_entries w WHERE w.id = CAST(substr(j.key, 10, length(j.key) - 21) AS BIGINT) AND w.body LIKE '%"refund_sent":true%')
				AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses = j.id)`},
		LedgerCheck{"missing_entry", `SELECT 'purchase:' || p.id, 'paid purchase without its payment entry'
			FROM purchases p WHERE p.status = 'paid'
				AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.key = 'purchase:' || p.id || ':paid')`},
		LedgerCheck{"missing_entry", `SELECT 'purchase:' || p.id, 'closed purchase whose payment went back without its entries'
			FROM purchases p WHERE p.status = 'closed' AND p.body LIKE '%"refund_id":"%'
				AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.ref = 'purchase:' || p.id AND j.kind = 'refund')`},
		// A refund of nothing (the campaign used all it paid) moves no money.
		LedgerCheck{"missing_entry", `SELECT 'purchase_refund:' || r.id, 'campaign refund done without its entries'
			FROM purchase_refunds r WHERE r.status = 'refunded' AND r.body NOT LIKE '%"fee_fen":0,"refunded_fen":0,%'
				AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.ref = 'purchase_refund:' || r.id)`},
	)
}
