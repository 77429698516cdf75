package sqlrow

import (
	"piao/internal/fault"
	"piao/internal/ledger"
	"sort"
)

// JournalEntryColumns are the columns of journal_entries that ScanJournalEntry reads.
const JournalEntryColumns = `id, key, kind, ref, external, at, posted_at, memo, COALESCE(reverses, 0)`

// ScanJournalEntry reads JournalEntryColumns (without postings).
func ScanJournalEntry(r Row) (ledger.Entry, error) {
	var e ledger.Entry
	var at, posted Time
	if err := r.Scan(&e.ID, &e.Key, &e.Kind, &e.Ref, &e.External, &at, &posted, &e.Memo, &e.Reverses); err != nil {
		return e, fault.Wrap(err, "read journal entry")
	}
	e.At, e.PostedAt = at.Time, posted.Time
	return e, nil
}

// JournalPosting is a posting with the entry it belongs to, as read back.
type JournalPosting struct {
	Entry int64
	ledger.Posting
}

// JournalPostingColumns are the columns of journal_postings that ScanJournalPosting reads, in line order.
const JournalPostingColumns = `entry_id, account, party, debit, credit`

// ScanJournalPosting reads JournalPostingColumns.
func ScanJournalPosting(r Row) (JournalPosting, error) {
	var p JournalPosting
	err := r.Scan(&p.Entry, &p.Account, &p.Party, &p.Debit, &p.Credit)
	return p, fault.Wrap(err, "read journal posting")
}

// AttachPostings gives each entry its postings (postings in entry, line order).
func AttachPostings(entries []ledger.Entry, postings []JournalPosting) {
	byID := make(map[int64]*ledger.Entry, len(entries))
	for i := range entries {
		byID[entries[i].ID] = &entries[i]
	}
	for _, p := range postings {
		if e := byID[p.Entry]; e != nil {
			e.Postings = append(e.Postings, p.Posting)
		}
	}
}

// BalanceColumns are the columns of ledger_balances that ScanBalance reads.
const BalanceColumns = `account, party, debit, credit`

// ScanBalance reads BalanceColumns.
func ScanBalance(r Row) (ledger.Balance, error) {
	var b ledger.Balance
	err := r.Scan(&b.Account, &b.Party, &b.Debit, &b.Credit)
	return b, fault.Wrap(err, "read ledger balance")
}

// LedgerCheck is one of the journal's checks: a query (the same on both
// engines) whose every row, (subject, detail), is a problem.
type LedgerCheck struct {
	Check string
	Query string
}

// LedgerChecks are what ledger.Store.Verify runs, in order. The first ones
// check the journal itself; the coverage checks after them find business
// events with no entry, each domain that posts adding its own.
var LedgerChecks = []LedgerCheck{
	{"unbalanced_entry", `SELECT 'entry:' || entry_id, 'debits ' || SUM(debit) || ' fen, credits ' || SUM(credit) || ' fen'
		FROM journal_postings GROUP BY entry_id HAVING SUM(debit) <> SUM(credit)`},
	{"short_entry", `SELECT 'entry:' || e.id, 'an entry needs at least two postings'
		FROM journal_entries e WHERE (SELECT COUNT(*) FROM journal_postings p WHERE p.entry_id = e.id) < 2`},
	{"balance_differs", `SELECT 'balance:' || b.account || '/' || b.party,
			'stored debits ' || b.debit || ', credits ' || b.credit || '; postings debits ' || COALESCE(s.d, 0) || ', credits ' || COALESCE(s.c, 0)
		FROM ledger_balances b LEFT JOIN (SELECT account, party, SUM(debit) AS d, SUM(credit) AS c FROM journal_postings GROUP BY account, party) s
			ON s.account = b.account AND s.party = b.party
		WHERE b.debit <> COALESCE(s.d, 0) OR b.credit <> COALESCE(s.c, 0)`},
	{"balance_missing", `SELECT 'balance:' || s.account || '/' || s.party, 'postings debits ' || s.d || ', credits ' || s.c || ' have no balance'
		FROM (SELECT account, party, SUM(debit) AS d, SUM(credit) AS c FROM journal_postings GROUP BY account, party) s
		WHERE NOT EXISTS (SELECT 1 FROM ledger_balances b WHERE b.account = s.account AND b.party = s.party)`},
	{"reversal_of_reversal", `SELECT 'entry:' || r.id, 'reverses entry ' || r.reverses || ', itself a reversal'
		FROM journal_entries r JOIN journal_entries o ON o.id = r.reverses WHERE o.reverses IS NOT NULL`},
}

// ScanLedgerProblem reads a check's (subject, detail) row as a problem of check.
func ScanLedgerProblem(check string) func(Row) (ledger.Problem, error) {
	return func(r Row) (ledger.Problem, error) {
		p := ledger.Problem{Check: check}
		err := r.Scan(&p.Subject, &p.Detail)
		return p, fault.Wrap(err, "read ledger check")
	}
}

// BalanceChanges sums an entry's postings per (account, party): what its
// posting adds to ledger_balances, one row each, in first-seen order.
func BalanceChanges(ps []ledger.Posting) []ledger.Balance {
	var out []ledger.Balance
	at := map[[2]string]int{}
	for _, p := range ps {
		k := [2]string{string(p.Account), p.Party}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, ledger.Balance{Account: p.Account, Party: p.Party})
		}
		out[i].Debit += p.Debit
		out[i].Credit += p.Credit
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Account != out[j].Account {
			return out[i].Account < out[j].Account
		}
		return out[i].Party < out[j].Party
	})
	return out
}
