package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"

	"piao/internal/audit"
	"piao/internal/fault"
	"piao/internal/tenant"
)

// Service is the ledger as the operator's finance team and merchants use
// it: the trial balance, balances and entries, corrections by reversal and
// write-off (audited), and the journal's check. Business events post their
// own entries through their stores; the service posts only corrections.
type Service struct {
	store Store
	audit *audit.Log
	now   func() time.Time
	// writeOffs serialises write-offs in this process, so two at once
	// cannot both pass the balance check and write off more than is owed.
	writeOffs sync.Mutex
}

// NewService returns the service over store, recording corrections in log
// (nil records nothing) with clock now (time.Now when nil).
func NewService(store Store, log *audit.Log, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, audit: log, now: now}
}

// ErrNotRunning answers the ledger's routes while no service runs.
var ErrNotRunning = fault.New(fault.Unavailable, "ledger_unavailable", "账务服务未运行", "the ledger is not running here")

// Refusals of corrections.
var (
	ErrReasonRequired = fault.New(fault.Invalid, "reason_required", "请填写原因", "give a reason")
	ErrWriteOffAmount = fault.New(fault.Invalid, "write_off_amount", "核销金额须为正数（分）", "the write-off amount must be a positive number of fen")
	ErrWriteOffParty  = fault.New(fault.Invalid, "write_off_party", "按往来单位核算的科目须注明单位，其他科目不得注明", "name a party exactly when the account is kept by party")
	ErrNoMerchant     = fault.New(fault.Forbidden, "merchant_only", "仅商户账号可查看本商户余额", "only a merchant's accounts see the merchant's balance")
)

// Kinds are every kind of business event an entry records, in the order
// lists offer them.
var Kinds = []string{KindPayment, KindPurchase, KindTopUp, KindRefund, KindRedemption, KindSubsidy, KindFee, KindWriteOff, KindBill, KindReversal}

// WriteOffAccounts are the accounts money can be written off from: what is
// owed to the operator, and what the channel holds for it.
var WriteOffAccounts = []Code{GatewayClearing, FareReceivable, SubsidyReceivable, EmployerReceivable}

// Trial returns the trial balance of every account of the chart.
func (s *Service) Trial(ctx context.Context) (Trial, error) {
	bs, err := s.store.Balances(ctx, "")
	if err != nil {
		return Trial{}, err
	}
	return TrialBalance(bs), nil
}

// Balances returns every (account, party) balance, one party's when party
// is set.
func (s *Service) Balances(ctx context.Context, party string) ([]Balance, error) {
	return s.store.Balances(ctx, strings.TrimSpace(party))
}

// EntryPage is one page of entries, newest first.
type EntryPage struct {
	Entries []Entry `json:"entries"`
	// NextBefore is the before of the next page; 0 on the last one.
	NextBefore int64 `json:"next_before,omitempty"`
}

// Entries returns one page of the entries f selects, newest first. An
// account not in the chart is refused rather than matching nothing.
func (s *Service) Entries(ctx context.Context, f Filter) (EntryPage, error) {
	if f.Account != "" {
		if _, ok := Lookup(f.Account); !ok {
			return EntryPage{}, fault.Newf(fault.Invalid, "unknown_account", "科目 %s 不在科目表中", "account %s is not in the chart", f.Account)
		}
	}
	f = f.Bounded()
	want := f.Limit
	f.Limit++ // one more tells whether another page follows (beyond the store's cap, a last page may be empty)
	es, err := s.store.Entries(ctx, f)
	if err != nil {
		return EntryPage{}, err
	}
	if len(es) > want || len(es) == f.Bounded().Limit {
		es = es[:min(len(es), want)]
		return EntryPage{Entries: es, NextBefore: es[len(es)-1].ID}, nil
	}
	if es == nil {
		es = []Entry{}
	}
	return EntryPage{Entries: es}, nil
}

// Entry returns one entry with its postings.
func (s *Service) Entry(ctx context.Context, id int64) (Entry, error) {
	return s.store.Entry(ctx, id)
}

// Reverse posts the entry that undoes entry id, for reason (required). An
// entry is reversed at most once, and a reversal is never reversed: the
// correction of a wrong reversal is the original event posted anew.
func (s *Service) Reverse(ctx context.Context, id int64, reason string) (Entry, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Entry{}, ErrReasonRequired
	}
	e, err := s.store.Entry(ctx, id)
	if err != nil {
		return Entry{}, err
	}
	if e.Reverses != 0 {
		return Entry{}, ErrReverseOfRev
	}
	r := Reversal(e, s.now(), reason)
	if _, err := s.store.EntryByKey(ctx, r.Key); err == nil {
		return Entry{}, ErrReversed
	} else if !fault.Is(err, fault.NotFound) {
		return Entry{}, err
	}
	posted, err := s.store.Post(ctx, r)
	if err != nil {
		return Entry{}, err
	}
	if !postedNow(posted, r) { // another request reversed it meanwhile
		return Entry{}, ErrReversed
	}
	if err := s.audit.Record(ctx, "ledger.reverse", subject(e.ID), e, posted, reason); err != nil {
		return Entry{}, err
	}
	return posted, nil
}

// postedNow reports whether stored is the entry this request posted rather
// than one another request posted under the same key: same memo, same
// moment (to the microsecond PostgreSQL keeps).
func postedNow(stored, mine Entry) bool {
	return stored.Memo == mine.Memo && stored.At.Truncate(time.Microsecond).Equal(mine.At.Truncate(time.Microsecond))
}

func subject(id int64) string { return "journal_entry:" + strconv.FormatInt(id, 10) }

// WriteOff is a request to give up on money owed to the operator.
type WriteOff struct {
	// Account is what is written off: one of WriteOffAccounts.
	Account Code `json:"account"`
	// Party is whose balance, where the account is kept by party.
	Party string `json:"party,omitempty"`
	Fen   int64  `json:"amount_fen"`
	// Reason is why (required); the entry's memo.
	Reason string `json:"reason"`
	// Key makes the request safe to retry: the same key posts one entry.
	// Empty: one is generated, and every call posts anew.
	Key string `json:"key,omitempty"`
}

// WriteOff posts Dr WriteOffs, Cr the account for w.Fen, never more than
// the account's (party's) balance. A retry with the same key returns the
// entry posted first; the same key for another write-off is ErrKeyReused.
func (s *Service) WriteOff(ctx context.Context, w WriteOff) (Entry, error) {
	w.Reason, w.Party, w.Key = strings.TrimSpace(w.Reason), strings.TrimSpace(w.Party), strings.TrimSpace(w.Key)
	a, ok := Lookup(w.Account)
	switch {
	case !ok || a.Kind != Asset || !writeOffable(w.Account):
		return Entry{}, fault.Newf(fault.Invalid, "write_off_account", "只能从应收或渠道待清算科目核销，科目 %s 不行", "only receivables and gateway clearing can be written off, not account %s", w.Account)
	case a.ByParty != (w.Party != ""):
		return Entry{}, ErrWriteOffParty
	case w.Fen <= 0 || w.Fen > maxSum:
		return Entry{}, ErrWriteOffAmount
	case w.Reason == "":
		return Entry{}, ErrReasonRequired
	case len(w.Key) > 200:
		return Entry{}, fault.New(fault.Invalid, "write_off_key", "请求键过长（最多 200 个字符）", "the key is too long (200 characters at most)")
	}
	if w.Key == "" {
		w.Key = newKey()
	}
	ref := "write_off:" + string(w.Account)
	if w.Party != "" {
		ref += "/" + w.Party
	}
	e := Build("write_off:"+w.Key, KindWriteOff, ref, s.now(), w.Reason,
		Debit(WriteOffs, "", w.Fen), Credit(w.Account, w.Party, w.Fen))

	s.writeOffs.Lock()
	defer s.writeOffs.Unlock()
	if stored, err := s.store.EntryByKey(ctx, e.Key); err == nil {
		if !Same(stored, e) {
			return Entry{}, ErrKeyReused
		}
		return stored, nil // a retry: posted already
	} else if !fault.Is(err, fault.NotFound) {
		return Entry{}, err
	}
	bs, err := s.store.Balances(ctx, w.Party)
	if err != nil {
		return Entry{}, err
	}
	var have int64
	for _, b := range bs {
		if b.Account == w.Account && b.Party == w.Party {
			have = b.Net()
		}
	}
	if w.Fen > have {
		return Entry{}, fault.Newf(fault.Invalid, "write_off_exceeds_balance", "核销金额 %d 分超过科目余额 %d 分", "the write-off of %d fen exceeds the account's balance of %d fen", w.Fen, have)
	}
	posted, err := s.store.Post(ctx, e)
	if err != nil {
		return Entry{}, err
	}
	if !postedNow(posted, e) {
		return posted, nil // posted by a retry in another process meanwhile
	}
	if err := s.audit.Record(ctx, "ledger.write_off", subject(posted.ID), map[string]any{"account": w.Account, "party": w.Party, "balance_fen": have}, posted, w.Reason); err != nil {
		return Entry{}, err
	}
	return posted, nil
}

func writeOffable(c Code) bool {
	for _, w := range WriteOffAccounts {
		if w == c {
			return true
		}
	}
	return false
}

// newKey is a fresh random request key.
func newKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// Report is what the journal's check found.
type Report struct {
	// Problems are every problem Store.Verify found; none when sound.
	Problems []Problem `json:"problems"`
	Trial    Trial     `json:"trial_balance"`
	// Balanced says the trial balance's debits equal its credits.
	Balanced bool `json:"balanced"`
	// Sound says there is no problem and the trial balance balances.
	Sound bool `json:"sound"`
}

// Check runs the journal's checks and the trial balance.
func (s *Service) Check(ctx context.Context) (Report, error) {
	ps, err := s.store.Verify(ctx)
	if err != nil {
		return Report{}, err
	}
	t, err := s.Trial(ctx)
	if err != nil {
		return Report{}, err
	}
	if ps == nil {
		ps = []Problem{}
	}
	return Report{Problems: ps, Trial: t, Balanced: t.Balanced(), Sound: len(ps) == 0 && t.Balanced()}, nil
}

// Statement is a merchant's (or employer's) own view of the ledger: its
// balances and its recent entries, each entry with only the postings to
// its own party, so nothing of another party's shows.
type Statement struct {
	Party    string    `json:"party"`
	Balances []Balance `json:"balances"`
	Entries  []Entry   `json:"entries"`
	// NextBefore is the before of the next page of entries; 0 on the last.
	NextBefore int64 `json:"next_before,omitempty"`
}

// Own returns the statement of the scope's merchant: its party's balances
// and a page of its entries (f's party is replaced by the merchant's). The
// operator's scope, which has no party of its own, is refused.
func (s *Service) Own(ctx context.Context, scope tenant.Scope, f Filter) (Statement, error) {
	party := scope.Owner()
	if party == "" {
		return Statement{}, ErrNoMerchant
	}
	bs, err := s.store.Balances(ctx, party)
	if err != nil {
		return Statement{}, err
	}
	f.Party = party
	p, err := s.Entries(ctx, f)
	if err != nil {
		return Statement{}, err
	}
	st := Statement{Party: party, Balances: bs, Entries: make([]Entry, 0, len(p.Entries)), NextBefore: p.NextBefore}
	if st.Balances == nil {
		st.Balances = []Balance{}
	}
	for _, e := range p.Entries {
		st.Entries = append(st.Entries, OnlyParty(e, party))
	}
	return st, nil
}

// OnlyParty returns e with only the postings to party: an entry that
// settles many merchants' campaigns at once shows each merchant its own
// lines, never the others'.
func OnlyParty(e Entry, party string) Entry {
	var ps []Posting
	for _, p := range e.Postings {
		if p.Party == party {
			ps = append(ps, p)
		}
	}
	e.Postings = ps
	return e
}

// ParseYuan reads an amount of yuan ("12", "12.5", "¥12.50") as fen, in
// integers: no float on a money path.
func ParseYuan(s string) (int64, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "¥")
	if fen, ok := ParseFixed(t, 2); ok && !strings.HasPrefix(t, ".") && !strings.HasSuffix(t, ".") {
		return fen, nil
	}
	return 0, fault.Newf(fault.Invalid, "bad_amount", "金额 %q 应为元，最多两位小数", "the amount %q must be yuan with at most two decimals", s)
}

// DayRange turns two days (YYYY-MM-DD, Beijing time; either may be empty)
// into a filter's From and Until: from the start of the first day to the
// end of the last, both included.
func DayRange(from, to string, loc *time.Location) (time.Time, time.Time, error) {
	var a, b time.Time
	for _, d := range []struct {
		s    string
		into *time.Time
		name string
		next bool
	}{{from, &a, "from", false}, {to, &b, "to", true}} {
		s := strings.TrimSpace(d.s)
		if s == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			return a, b, fault.Newf(fault.Invalid, "bad_date", "%s 应为日期 YYYY-MM-DD", "%s must be a date, YYYY-MM-DD", d.name)
		}
		if d.next {
			t = t.AddDate(0, 0, 1)
		}
		*d.into = t
	}
	if !a.IsZero() && !b.IsZero() && !a.Before(b) {
		return a, b, fault.New(fault.Invalid, "bad_date", "结束日期早于开始日期", "to is before from")
	}
	return a, b, nil
}
