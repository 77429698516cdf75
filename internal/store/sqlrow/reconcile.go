package sqlrow

import (
	"encoding/json"
	"strconv"
	"time"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/payment"
	"piao/internal/reconcile"
)

// ReconcileSlack widens the window the gateway-record queries select on
// (by their indexed or coarse times) beyond a day; the exact day is then
// taken in Go (InDay). Times kept inside JSON bodies may be written in any
// zone, which shifts their text by at most 14 hours.
const ReconcileSlack = 24 * time.Hour

// JSONBound is a time as a bound for comparing the text of a UTC time
// kept in a JSON body: RFC 3339 to the second.
func JSONBound(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// ScanGatewayRecord reads (type, external, amount_fen, at, ref) as one of
// piao's records; at is a TIMESTAMPTZ or time text (stored or RFC 3339).
func ScanGatewayRecord(r Row) (reconcile.Record, error) {
	var rec reconcile.Record
	var at NullTime
	var typ string
	if err := r.Scan(&typ, &rec.External, &rec.AmountFen, &at, &rec.Ref); err != nil {
		return reconcile.Record{}, fault.Wrap(err, "scan gateway record")
	}
	rec.Side, rec.Type, rec.At = reconcile.Orders, payment.LineType(typ), at.Time
	return rec, nil
}

// ScanLedgerRecord reads (id, external, at, net debit on gateway clearing)
// as the ledger's record.
func ScanLedgerRecord(r Row) (reconcile.Record, error) {
	var id, net int64
	var rec reconcile.Record
	var at Time
	if err := r.Scan(&id, &rec.External, &at, &net); err != nil {
		return reconcile.Record{}, fault.Wrap(err, "scan ledger record")
	}
	rec.Side, rec.At, rec.Ref = reconcile.Ledger, at.Time, "entry:"+strconv.FormatInt(id, 10)
	rec.Type, rec.AmountFen = payment.LinePayment, net
	if net < 0 {
		rec.Type, rec.AmountFen = payment.LineRefund, -net
	}
	return rec, nil
}

// InDay keeps the records at in [from, until) that name a movement.
func InDay(rs []reconcile.Record, from, until time.Time) []reconcile.Record {
	out := rs[:0]
	for _, r := range rs {
		if !r.At.Before(from) && r.At.Before(until) && r.External != "" {
			out = append(out, r)
		}
	}
	return out
}

// LedgerRecordsQuery selects the ledger's side of a day: entries with a
// channel ID and their net on gateway clearing, reversed entries and their
// reversals left out. Parameters: the account code, from, until (bind with
// the engine's placeholders: it is written with ?1, ?2, ?3 and PostgreSQL's
// engine rewrites them to $1, $2, $3).
const LedgerRecordsQuery = `SELECT j.id, j.external, j.at, CAST(SUM(p.debit) - SUM(p.credit) AS BIGINT)
	FROM journal_entries j JOIN journal_postings p ON p.entry_id = j.id AND p.account = ?1
	WHERE j.external <> '' AND j.at >= ?2 AND j.at < ?3 AND j.reverses IS NULL
	  AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses = j.id)
	GROUP BY j.id, j.external, j.at
	HAVING SUM(p.debit) <> SUM(p.credit)
	ORDER BY j.id`

// RunColumns are the columns of reconcile_runs that ScanRun reads.
const RunColumns = `id, body`

// ScanRun reads RunColumns; no row is reconcile.ErrRunNotFound.
func ScanRun(r Row) (reconcile.Run, error) {
	var id int64
	var body string
	if err := r.Scan(&id, &body); err != nil {
		return reconcile.Run{}, NoRowsAs(fault.Wrap(err, "scan reconciliation run"), reconcile.ErrRunNotFound)
	}
	var run reconcile.Run
	if err := json.Unmarshal([]byte(body), &run); err != nil {
		return reconcile.Run{}, fault.Wrap(err, "decode reconciliation run")
	}
	run.ID = id
	return run, nil
}

// RunBody is what reconcile_runs.body keeps of a run: all but its
// differences, which have their own rows.
func RunBody(r reconcile.Run) (string, error) {
	r.Differences = nil
	b, err := json.Marshal(r)
	return string(b), fault.Wrap(err, "encode reconciliation run")
}

// DifferenceBody encodes a difference for reconcile_differences.body.
func DifferenceBody(d reconcile.Difference) (string, error) {
	b, err := json.Marshal(d)
	return string(b), fault.Wrap(err, "encode reconciliation difference")
}

// ScanDifference reads a body column as a difference.
func ScanDifference(r Row) (reconcile.Difference, error) {
	var body string
	if err := r.Scan(&body); err != nil {
		return reconcile.Difference{}, fault.Wrap(err, "scan reconciliation difference")
	}
	var d reconcile.Difference
	return d, fault.Wrap(json.Unmarshal([]byte(body), &d), "decode reconciliation difference")
}

// ScanPartyBalance reads (account, debit, credit) as a balance of party.
func ScanPartyBalance(party string) func(Row) (ledger.Balance, error) {
	return func(r Row) (ledger.Balance, error) {
		b := ledger.Balance{Party: party}
		err := r.Scan((*string)(&b.Account), &b.Debit, &b.Credit)
		return b, fault.Wrap(err, "scan party balance")
	}
}

// PartyPostingColumns are what ScanPartyPosting reads, from journal_entries
// j joined with journal_postings p.
const PartyPostingColumns = `j.id, j.key, j.kind, j.ref, j.at, j.memo, p.account, p.debit, p.credit`

// ScanPartyPosting reads PartyPostingColumns.
func ScanPartyPosting(r Row) (reconcile.Posting, error) {
	var p reconcile.Posting
	var at Time
	err := r.Scan(&p.EntryID, &p.Key, &p.Kind, &p.Ref, &at, &p.Memo, (*string)(&p.Account), &p.DebitFen, &p.CredFen)
	p.At = at.Time
	return p, fault.Wrap(err, "scan party posting")
}
