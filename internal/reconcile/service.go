package reconcile

import (
	"context"
	"errors"
	"time"

	"piao/internal/audit"
	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/payment"
)

// Run is one reconciliation of a day, kept as it was found.
type Run struct {
	ID  int64     `json:"id"`
	Day string    `json:"day"` // YYYY-MM-DD, Asia/Shanghai
	At  time.Time `json:"at"`  // when it ran
	By  string    `json:"by"`  // who ran it
	// Source is where the statement came from: "gateway" (the sandbox's,
	// in-process) or "file" (a file given to the command).
	Source    string                   `json:"source"`
	Statement payment.StatementSummary `json:"statement"`
	// Records counts what each side held for the day.
	Records map[Side]int `json:"records"`
	// Matched counts the movements on which all three sides agree.
	Matched int `json:"matched"`
	// FeeEntry is the ledger entry of the day's channel fees (Dr 6603 /
	// Cr 1101, key "fees:<day>"), zero when the day had no net fee.
	FeeEntry        int64        `json:"fee_entry,omitempty"`
	DifferenceCount int          `json:"difference_count"`
	Differences     []Difference `json:"differences,omitempty"`
}

// Clean reports whether the run found no difference.
func (r Run) Clean() bool { return r.DifferenceCount == 0 }

// RunFilter selects runs, newest first: of one day when Day is set, Limit
// at a time (at most 200, 50 when zero), below BeforeID when set.
type RunFilter struct {
	Day      string
	BeforeID int64
	Limit    int
}

// Bounded returns f with its limit in range.
func (f RunFilter) Bounded() RunFilter {
	switch {
	case f.Limit <= 0:
		f.Limit = 50
	case f.Limit > 200:
		f.Limit = 200
	}
	return f
}

// Store gathers piao's two sides of a day and keeps runs. Both engines
// implement it.
type Store interface {
	// GatewayRecords returns piao's business records of money that moved
	// through the gateway in [from, until): rail orders' payments and the
	// refunds of their tickets and changes, waitlist prepayments and their
	// refunds, merchant purchases and their refunds, payments that arrived
	// late and their refunds — each with the channel's ID piao knows it by.
	GatewayRecords(ctx context.Context, from, until time.Time) ([]Record, error)
	// LedgerRecords returns the journal entries at in [from, until) that
	// carry a channel ID, each with its net amount on gateway clearing
	// (1101): a debit is a payment, a credit a refund. Reversed entries
	// and their reversals are left out: together they record nothing.
	LedgerRecords(ctx context.Context, from, until time.Time) ([]Record, error)
	// SaveRun stores a run with its differences and returns it with its ID.
	SaveRun(ctx context.Context, r Run) (Run, error)
	// Run returns a run with its differences (ErrRunNotFound).
	Run(ctx context.Context, id int64) (Run, error)
	// Runs lists runs without their differences.
	Runs(ctx context.Context, f RunFilter) ([]Run, error)
	// PartyActivity returns a party's balances on every account before
	// from, and its postings with at in [from, until), in time order: the
	// makings of its statement for that period.
	PartyActivity(ctx context.Context, party string, from, until time.Time) ([]ledger.Balance, []Posting, error)
}

// Posting is one line of the journal on a party's account, with its entry.
type Posting struct {
	EntryID  int64       `json:"entry_id"`
	Key      string      `json:"key"`
	Kind     string      `json:"kind"`
	Ref      string      `json:"ref"`
	At       time.Time   `json:"at"`
	Memo     string      `json:"memo,omitempty"`
	Account  ledger.Code `json:"account"`
	DebitFen int64       `json:"debit_fen"`
	CredFen  int64       `json:"credit_fen"`
}

// ErrRunNotFound is the answer for a run that does not exist.
var ErrRunNotFound = fault.New(fault.NotFound, "reconciliation_not_found", "对账记录不存在", "reconciliation run not found")

var (
	errNoStatement = fault.New(fault.Unavailable, "statement_unavailable", "支付渠道不提供对账单，请提供对账单文件", "the payment channel offers no statement; give a statement file")
	errOtherDay    = fault.New(fault.Invalid, "statement_other_day", "对账单中有不属于该日的交易", "the statement holds movements of another day")
)

// Config wires a Service.
type Config struct {
	Store  Store
	Ledger ledger.Store
	// Statements is the channel's statements; nil when the channel offers
	// none in-process (a statement must then be given).
	Statements payment.Statements
	Audit      *audit.Log
	Now        func() time.Time
}

// Service runs reconciliations and builds monthly statements.
type Service struct{ cfg Config }

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}
}

// Reconcile matches day (YYYY-MM-DD) three ways and stores the run. The
// statement is lines when given (a file), else the channel's. The day's
// net channel fee is posted to the ledger once (Dr ChannelFees, Cr
// GatewayClearing, key "fees:<day>", no channel ID), and only by a run
// that can be trusted with it: the day is over (Asia/Shanghai), so no
// later payment can change its fees, and the run found no difference, so
// the statement is whole and right. A run that finds the fees posted at
// another amount reports a FeeDiffers difference.
func (s *Service) Reconcile(ctx context.Context, day string, lines []payment.StatementLine, by string) (Run, error) {
	from, until, err := payment.ParseDay(day)
	if err != nil {
		return Run{}, err
	}
	source := "file"
	if lines == nil {
		if s.cfg.Statements == nil {
			return Run{}, errNoStatement
		}
		source = "gateway"
		if lines, err = s.cfg.Statements.Statement(ctx, from); err != nil {
			return Run{}, err
		}
	}
	records := make([]Record, 0, 3*len(lines))
	for _, l := range lines {
		if l.At.Before(from) || !l.At.Before(until) {
			return Run{}, errOtherDay
		}
		records = append(records, Record{Side: Statement, Type: l.Type, External: l.External(), AmountFen: l.AmountFen, At: l.At, Ref: l.OrderRef})
	}
	mine, err := s.cfg.Store.GatewayRecords(ctx, from, until)
	if err != nil {
		return Run{}, err
	}
	books, err := s.cfg.Store.LedgerRecords(ctx, from, until)
	if err != nil {
		return Run{}, err
	}
	records = append(append(records, mine...), books...)
	diffs := Match(records)
	run := Run{
		Day: day, At: s.cfg.Now().UTC().Truncate(time.Microsecond), By: by, Source: source,
		Statement: payment.Summarize(lines),
		Records:   map[Side]int{Statement: len(lines), Orders: len(mine), Ledger: len(books)},
		Matched:   matched(records, diffs),
	}
	final := !until.After(s.cfg.Now()) && len(diffs) == 0
	fee, err := s.postFees(ctx, day, until, run.Statement.FeeFen, final)
	if err != nil {
		return Run{}, err
	}
	if fee.diff != nil {
		diffs = append(diffs, *fee.diff)
	}
	run.FeeEntry, run.Differences, run.DifferenceCount = fee.entry, diffs, len(diffs)
	run, err = s.cfg.Store.SaveRun(ctx, run)
	if err != nil {
		return Run{}, err
	}
	if s.cfg.Audit != nil {
		summary := run
		summary.Differences = nil
		if err := s.cfg.Audit.Record(ctx, "reconcile.run", "reconciliation:"+itoa(run.ID), nil, summary, "reconciliation of "+day); err != nil {
			return Run{}, err
		}
	}
	return run, nil
}

// feePosting is what posting a day's fees did.
type feePosting struct {
	entry int64
	diff  *Difference
}

// FeeKey is the ledger key of a day's channel fees.
func FeeKey(day string) string { return "fees:" + day }

// postFees posts the day's net fee once, or finds it posted; when post is
// false it only compares with what an earlier run posted.
func (s *Service) postFees(ctx context.Context, day string, until time.Time, fee int64, post bool) (feePosting, error) {
	key := FeeKey(day)
	differs := func(posted int64) feePosting {
		return feePosting{diff: &Difference{Kind: FeeDiffers, External: key, Sides: []Side{Statement, Ledger},
			Amounts: map[Side]int64{Statement: fee, Ledger: posted}, Refs: []string{"ledger:" + key}}}
	}
	if fee == 0 || !post {
		prev, err := s.cfg.Ledger.EntryByKey(ctx, key)
		switch {
		case errors.Is(err, ledger.ErrNotFound) || fault.Is(err, fault.NotFound):
			return feePosting{}, nil
		case err != nil:
			return feePosting{}, err
		}
		if posted := channelFees(prev); posted != fee {
			return differs(posted), nil
		}
		return feePosting{entry: prev.ID}, nil
	}
	// The fees of the day are an event of its last second, so the day's
	// and the month's figures hold them.
	e := ledger.Build(key, ledger.KindFee, "statement:"+day, until.Add(-time.Second).UTC(), "channel fees of "+day,
		ledger.Debit(ledger.ChannelFees, "", fee), ledger.Credit(ledger.GatewayClearing, "", fee))
	got, err := s.cfg.Ledger.Post(ctx, e)
	if errors.Is(err, ledger.ErrKeyReused) || fault.As(err) != nil && fault.As(err).Reason == ledger.ErrKeyReused.Reason {
		prev, perr := s.cfg.Ledger.EntryByKey(ctx, key)
		if perr != nil {
			return feePosting{}, perr
		}
		out := differs(channelFees(prev))
		out.entry = prev.ID
		return out, nil
	}
	if err != nil {
		return feePosting{}, err
	}
	return feePosting{entry: got.ID}, nil
}

// channelFees is an entry's net debit on ChannelFees.
func channelFees(e ledger.Entry) int64 {
	var n int64
	for _, p := range e.Postings {
		if p.Account == ledger.ChannelFees {
			n += p.Debit - p.Credit
		}
	}
	return n
}

// matched counts the movements (ID and type) with no difference.
func matched(records []Record, diffs []Difference) int {
	all := map[key]bool{}
	for _, r := range records {
		all[key{r.Type, r.External}] = true
	}
	for _, d := range diffs {
		delete(all, key{d.Type, d.External})
	}
	return len(all)
}

// Run returns a stored run with its differences.
func (s *Service) Run(ctx context.Context, id int64) (Run, error) { return s.cfg.Store.Run(ctx, id) }

// Runs lists stored runs, newest first.
func (s *Service) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	return s.cfg.Store.Runs(ctx, f.Bounded())
}

// Statement returns the channel's statement of the day that contains day
// (errNoStatement when the channel offers none).
func (s *Service) Statement(ctx context.Context, day time.Time) ([]payment.StatementLine, error) {
	if s.cfg.Statements == nil {
		return nil, errNoStatement
	}
	return s.cfg.Statements.Statement(ctx, day)
}
