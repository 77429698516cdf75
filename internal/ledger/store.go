package ledger

import (
	"context"
	"sort"
	"time"
)

// Store keeps the journal. Entries are only ever added: each engine's
// tables refuse UPDATE and DELETE of entries and postings, and a balance row
// changes only with a posting in the same transaction.
//
// Domain stores that move money post their entries inside their own
// transactions with their engine's posting helper; Post is for entries that
// record nothing else (a reversal, a write-off, channel fees).
type Store interface {
	// Post stores an entry that passes Check, with its postings, and
	// adds them to the balances, in one transaction. An entry whose Key is
	// posted already is not posted again: when the stored one is the same
	// (Same) it is returned, otherwise ErrKeyReused. A reversal of an entry
	// reversed already is ErrReversed.
	Post(ctx context.Context, e Entry) (Entry, error)
	// Entry returns an entry with its postings.
	Entry(ctx context.Context, id int64) (Entry, error)
	// EntryByKey returns the entry of a business event.
	EntryByKey(ctx context.Context, key string) (Entry, error)
	// Entries returns the entries matching f with their postings, newest
	// first.
	Entries(ctx context.Context, f Filter) ([]Entry, error)
	// Balances returns the stored balance of every account and party with
	// postings, in (account, party) order; with party set, that party's
	// only.
	Balances(ctx context.Context, party string) ([]Balance, error)
	// Verify runs the journal's checks in the database and returns every
	// problem found (none when the journal is sound): entries whose
	// postings do not balance, balances that differ from the sum of their
	// postings, entries reversed more than once, and business events with
	// no entry (settled trips, paid orders and purchases, …).
	Verify(ctx context.Context) ([]Problem, error)
}

// Filter selects entries. Zero fields select everything; entries come newest
// first, Limit at a time (at most 500, 100 when zero), below BeforeID when
// set.
type Filter struct {
	Account  Code
	Party    string
	Kind     string
	Ref      string
	From     time.Time // At ≥ From
	Until    time.Time // At < Until
	BeforeID int64
	Limit    int
}

// Bounded returns f with its limit in range.
func (f Filter) Bounded() Filter {
	switch {
	case f.Limit <= 0:
		f.Limit = 100
	case f.Limit > 500:
		f.Limit = 500
	}
	return f
}

// Balance is an account's totals for one party ("" on accounts not kept by
// party).
type Balance struct {
	Account Code   `json:"account"`
	Party   string `json:"party,omitempty"`
	Debit   int64  `json:"debit_fen"`
	Credit  int64  `json:"credit_fen"`
}

// Net is the balance on the account's normal side: debits less credits for
// assets and expenses, credits less debits for the others.
func (b Balance) Net() int64 {
	a, _ := Lookup(b.Account)
	if a.Kind.DebitNormal() {
		return b.Debit - b.Credit
	}
	return b.Credit - b.Debit
}

// Problem is one thing `piao ledger check` found wrong.
type Problem struct {
	// Check names the check that failed: "unbalanced_entry",
	// "balance_differs", "reversed_twice", "missing_entry", …
	Check string `json:"check"`
	// Subject is what is wrong: an entry ("entry:12"), a balance
	// ("balance:2203/merchant:7"), a business event ("trip:…",
	// "order:9").
	Subject string `json:"subject"`
	Detail  string `json:"detail"`
}

// TrialLine is one account of a trial balance: its totals over every party.
type TrialLine struct {
	Account Account `json:"account"`
	Debit   int64   `json:"debit_fen"`
	Credit  int64   `json:"credit_fen"`
	// Net is the balance on the account's normal side.
	Net int64 `json:"net_fen"`
}

// Trial is a trial balance: every account's totals, and their sums, which
// are equal when the journal balances.
type Trial struct {
	Lines  []TrialLine `json:"lines"`
	Debit  int64       `json:"debit_fen"`
	Credit int64       `json:"credit_fen"`
}

// Balanced reports whether the trial balance's debits equal its credits.
func (t Trial) Balanced() bool { return t.Debit == t.Credit }

// TrialBalance sums balances per account over parties, in chart order, every
// account of the chart listed (zero where nothing was posted).
func TrialBalance(balances []Balance) Trial {
	// Indexes, not pointers: appending an account missing from the chart
	// may move the lines.
	byCode := map[Code]int{}
	var t Trial
	for i, a := range Chart {
		t.Lines = append(t.Lines, TrialLine{Account: a})
		byCode[a.Code] = i
	}
	for _, b := range balances {
		i, ok := byCode[b.Account]
		if !ok { // an account no longer in the chart still counts
			a := Account{Code: b.Account, Kind: Asset, Name: string(b.Account), Zh: string(b.Account)}
			t.Lines = append(t.Lines, TrialLine{Account: a})
			i = len(t.Lines) - 1
			byCode[b.Account] = i
		}
		t.Lines[i].Debit += b.Debit
		t.Lines[i].Credit += b.Credit
	}
	sort.SliceStable(t.Lines, func(i, j int) bool { return t.Lines[i].Account.Code < t.Lines[j].Account.Code })
	for i := range t.Lines {
		l := &t.Lines[i]
		if l.Account.Kind.DebitNormal() {
			l.Net = l.Debit - l.Credit
		} else {
			l.Net = l.Credit - l.Debit
		}
		t.Debit += l.Debit
		t.Credit += l.Credit
	}
	return t
}
