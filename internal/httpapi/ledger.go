package httpapi

import (
	"bytes"
	"context"
	"time"

	"piao/internal/identity"
	"piao/internal/ledger"
	"piao/internal/sheet"
)

// ledgerRoutes serves the double-entry ledger (SPEC B5): the operator's
// finance team reads the trial balance, balances and entries (ledger:read)
// and corrects by reversal and write-off (ledger:write, audited); a
// merchant reads its own balance (merchant:finance).
func (s *Server) ledgerRoutes() {
	g := s.group(s.deps.Ledger != nil, ledger.ErrNotRunning)
	add(g, identity.LedgerRead, op("GET", "/api/v1/ledger/trial-balance", "ledgerTrialBalance", "ledger",
		"The trial balance: every account of the chart with its debits, credits and net, and whether debits equal credits",
		"试算平衡表：科目表中每个科目的借方、贷方与余额，以及借贷是否相等"), s.ledgerTrial)
	add(g, identity.LedgerRead, op("GET", "/api/v1/ledger/balances", "ledgerBalances", "ledger",
		"Balances per account and party (a merchant, employer, passenger or subsidy scheme); one party's with ?party=",
		"按科目与往来单位的余额；?party=merchant:7 只看一个单位"), s.ledgerBalances)
	add(g, identity.LedgerRead, op("GET", "/api/v1/ledger/entries", "ledgerEntries", "ledger",
		"Journal entries with their postings, newest first; the next page with before=next_before",
		"记账分录及其明细，按时间倒序；下一页以 next_before 作为 before"), s.listLedgerEntries)
	add(g, identity.LedgerRead, op("GET", "/api/v1/ledger/entries/export", "exportLedgerEntries", "ledger",
		"The entries the same filters select, one row per posting, as CSV or XLSX (?format=csv|xlsx); refused beyond 50,000 entries",
		"按相同筛选条件导出分录（每行一条明细），CSV 或 XLSX；超过 50000 条时请缩小日期范围"), s.exportLedgerEntries)
	add(g, identity.LedgerRead, op("GET", "/api/v1/ledger/entries/{id}", "ledgerEntry", "ledger",
		"One journal entry with its postings and the business event it records (ref)", "一条分录：明细与所记录的业务（ref）"), s.ledgerEntry)
	add(g, identity.LedgerWrite, op("POST", "/api/v1/ledger/entries/{id}/reverse", "reverseLedgerEntry", "ledger",
		"Reverse an entry: post its postings on the other side, for a reason (audited); an entry is reversed once, a reversal never",
		"冲销分录：以相反方向记一笔新分录，须填原因（记入审计日志）；每条分录只能冲销一次，冲销分录不能再冲销"), s.reverseLedgerEntry)
	add(g, identity.LedgerWrite, op("POST", "/api/v1/ledger/write-offs", "writeOff", "ledger",
		"Write off money owed to the operator (fares, subsidies, employers receivable) or held by the channel: Dr write-offs, Cr the account, at most its balance (audited)",
		"核销：借记核销损失，贷记应收或渠道待清算科目，不超过其余额（记入审计日志）"), s.writeOff)
	add(g, identity.LedgerRead, op("GET", "/api/v1/ledger/check", "ledgerCheck", "ledger",
		"Check the journal: every entry balances, balances equal their postings, every business event has its entry; with the trial balance",
		"账务检查：分录借贷平衡、余额等于明细之和、每笔业务都有分录；附试算平衡表"), s.ledgerCheck)
	add(g, identity.MerchantFinance, op("GET", "/api/v1/merchant/balance", "merchantBalance", "merchant",
		"The merchant's own balances in the ledger (prepaid, employer prepaid) and its recent entries, each with the merchant's own postings only",
		"本商户在账上的余额（预付款等）与近期分录（仅本商户的明细）"), s.merchantBalance)
}

// ledgerEntry is an entry as answers give it (its own schema name: the
// audit trail's entries are "Entry").
type ledgerEntry struct {
	ID       int64            `json:"id"`
	Key      string           `json:"key" doc:"The business event, unique in the journal"`
	Kind     string           `json:"kind"`
	Ref      string           `json:"ref" doc:"What the event is about: purchase:12, order:9"`
	External string           `json:"external,omitempty" doc:"The payment channel's ID of the money movement"`
	At       time.Time        `json:"at" doc:"When the event happened"`
	PostedAt time.Time        `json:"posted_at"`
	Memo     string           `json:"memo,omitempty"`
	Reverses int64            `json:"reverses,omitempty" doc:"The entry this one reverses"`
	Postings []ledger.Posting `json:"postings"`
}

func ledgerEntryOf(e ledger.Entry) ledgerEntry {
	return ledgerEntry{ID: e.ID, Key: e.Key, Kind: e.Kind, Ref: e.Ref, External: e.External, At: e.At, PostedAt: e.PostedAt, Memo: e.Memo, Reverses: e.Reverses, Postings: e.Postings}
}

// ledgerProblem is a problem the check found (its own schema name:
// "Problem" is the error answers').
type ledgerProblem struct{ ledger.Problem }

// ledgerEntryPage is a page of entries.
type ledgerEntryPage struct {
	Entries    []ledgerEntry `json:"entries"`
	NextBefore int64         `json:"next_before,omitempty" doc:"The before of the next page; absent on the last"`
}

func ledgerEntries(es []ledger.Entry) []ledgerEntry {
	out := make([]ledgerEntry, len(es))
	for i, e := range es {
		out[i] = ledgerEntryOf(e)
	}
	return out
}

// ledgerAccountView is an account of the chart as answers name it.
type ledgerAccountView struct {
	Code ledger.Code `json:"code"`
	Kind ledger.Kind `json:"kind"`
	Name string      `json:"name"`
	Zh   string      `json:"name_zh"`
}

func ledgerAccountOf(c ledger.Code) ledgerAccountView {
	a, ok := ledger.Lookup(c)
	if !ok {
		return ledgerAccountView{Code: c, Name: string(c), Zh: string(c)}
	}
	return ledgerAccountView{Code: a.Code, Kind: a.Kind, Name: a.Name, Zh: a.Zh}
}

// ledgerTrialView is the trial balance with its verdict.
type ledgerTrialView struct {
	Lines    []ledgerTrialLineView `json:"lines"`
	Debit    int64                 `json:"debit_fen"`
	Credit   int64                 `json:"credit_fen"`
	Balanced bool                  `json:"balanced" doc:"Debits equal credits"`
}

type ledgerTrialLineView struct {
	Account ledgerAccountView `json:"account"`
	ByParty bool              `json:"by_party" doc:"The account is kept per party"`
	Debit   int64             `json:"debit_fen"`
	Credit  int64             `json:"credit_fen"`
	Net     int64             `json:"net_fen" doc:"The balance on the account's normal side"`
}

func trialOf(t ledger.Trial) ledgerTrialView {
	v := ledgerTrialView{Lines: make([]ledgerTrialLineView, len(t.Lines)), Debit: t.Debit, Credit: t.Credit, Balanced: t.Balanced()}
	for i, l := range t.Lines {
		v.Lines[i] = ledgerTrialLineView{Account: ledgerAccountOf(l.Account.Code), ByParty: l.Account.ByParty, Debit: l.Debit, Credit: l.Credit, Net: l.Net}
	}
	return v
}

func (s *Server) ledgerTrial(ctx context.Context, _ *struct{}) (*body[ledgerTrialView], error) {
	t, err := s.deps.Ledger.Trial(ctx)
	if err != nil {
		return nil, err
	}
	return &body[ledgerTrialView]{trialOf(t)}, nil
}

// ledgerBalanceView is one balance with its account named and its net.
type ledgerBalanceView struct {
	Account ledgerAccountView `json:"account"`
	Party   string            `json:"party,omitempty"`
	Debit   int64             `json:"debit_fen"`
	Credit  int64             `json:"credit_fen"`
	Net     int64             `json:"net_fen" doc:"The balance on the account's normal side"`
}

func balancesOf(bs []ledger.Balance) []ledgerBalanceView {
	out := make([]ledgerBalanceView, len(bs))
	for i, b := range bs {
		out[i] = ledgerBalanceView{Account: ledgerAccountOf(b.Account), Party: b.Party, Debit: b.Debit, Credit: b.Credit, Net: b.Net()}
	}
	return out
}

type ledgerBalancesInput struct {
	Party string `query:"party" maxLength:"200" doc:"Only this party's balances: merchant:7, account:42, subsidy:students"`
}

type ledgerBalancesBody struct {
	Balances []ledgerBalanceView `json:"balances"`
}

func (s *Server) ledgerBalances(ctx context.Context, in *ledgerBalancesInput) (*body[ledgerBalancesBody], error) {
	bs, err := s.deps.Ledger.Balances(ctx, in.Party)
	if err != nil {
		return nil, err
	}
	return &body[ledgerBalancesBody]{ledgerBalancesBody{balancesOf(bs)}}, nil
}

// entriesFilter reads the entries' filters, the same on the list and its
// export (huma reads no query parameters of embedded structs, so each input
// declares them).
func entriesFilter(account, party, kind, ref, from, to string) (ledger.Filter, error) {
	f := ledger.Filter{Account: ledger.Code(account), Party: party, Kind: kind, Ref: ref}
	var err error
	f.From, f.Until, err = ledger.DayRange(from, to, shanghai)
	return f, err
}

type ledgerEntriesInput struct {
	Account string `query:"account" pattern:"^[0-9]{4}$" doc:"Only entries with a posting to this account (its code, e.g. 2203)"`
	Party   string `query:"party" maxLength:"200" doc:"Only entries with a posting for this party (merchant:7)"`
	Kind    string `query:"kind" enum:"payment,purchase,top_up,refund,redemption,subsidy,fee,write_off,bill,reversal" doc:"Only entries of this kind"`
	Ref     string `query:"ref" maxLength:"200" doc:"Only entries about this business record (purchase:12, order:9)"`
	From    string `query:"from" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" doc:"From this day (YYYY-MM-DD, Beijing time), by when the event happened"`
	To      string `query:"to" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" doc:"To this day, included"`
	Before  int64  `query:"before" minimum:"0" doc:"Paging: entries older than this ID (the previous page's next_before)"`
	Limit   int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

func (s *Server) listLedgerEntries(ctx context.Context, in *ledgerEntriesInput) (*body[ledgerEntryPage], error) {
	f, err := entriesFilter(in.Account, in.Party, in.Kind, in.Ref, in.From, in.To)
	if err != nil {
		return nil, err
	}
	f.BeforeID, f.Limit = in.Before, in.Limit
	p, err := s.deps.Ledger.Entries(ctx, f)
	if err != nil {
		return nil, err
	}
	return &body[ledgerEntryPage]{ledgerEntryPage{Entries: ledgerEntries(p.Entries), NextBefore: p.NextBefore}}, nil
}

type exportEntriesInput struct {
	Account string `query:"account" pattern:"^[0-9]{4}$" doc:"Only entries with a posting to this account (its code, e.g. 2203)"`
	Party   string `query:"party" maxLength:"200" doc:"Only entries with a posting for this party (merchant:7)"`
	Kind    string `query:"kind" enum:"payment,purchase,top_up,refund,redemption,subsidy,fee,write_off,bill,reversal" doc:"Only entries of this kind"`
	Ref     string `query:"ref" maxLength:"200" doc:"Only entries about this business record (purchase:12, order:9)"`
	From    string `query:"from" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" doc:"From this day (YYYY-MM-DD, Beijing time), by when the event happened"`
	To      string `query:"to" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" doc:"To this day, included"`
	Format  string `query:"format" enum:"csv,xlsx" default:"csv" doc:"The file's format"`
}

func (s *Server) exportLedgerEntries(ctx context.Context, in *exportEntriesInput) (*csvOutput, error) {
	format, err := sheet.ParseFormat(in.Format)
	if err != nil {
		return nil, err
	}
	f, err := entriesFilter(in.Account, in.Party, in.Kind, in.Ref, in.From, in.To)
	if err != nil {
		return nil, err
	}
	t, err := s.deps.Ledger.EntriesTable(ctx, f, shanghai)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := sheet.Write(&b, format, t); err != nil {
		return nil, err
	}
	return &csvOutput{ContentType: format.ContentType(), ContentDisposition: `attachment; filename="` + format.FileName("ledger-entries") + `"`, Body: b.Bytes()}, nil
}

type ledgerEntryInput struct {
	ID int64 `path:"id" minimum:"1"`
}

func (s *Server) ledgerEntry(ctx context.Context, in *ledgerEntryInput) (*body[ledgerEntry], error) {
	e, err := s.deps.Ledger.Entry(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &body[ledgerEntry]{ledgerEntryOf(e)}, nil
}

type reverseInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"500" doc:"Why the entry is reversed (required)"`
	}
}

func (s *Server) reverseLedgerEntry(ctx context.Context, in *reverseInput) (*body[ledgerEntry], error) {
	e, err := s.deps.Ledger.Reverse(ctx, in.ID, in.Body.Reason)
	if err != nil {
		return nil, err
	}
	return &body[ledgerEntry]{ledgerEntryOf(e)}, nil
}

type writeOffInput struct {
	Body struct {
		Account string `json:"account" enum:"1101,1121,1122,1123" doc:"The account written off: 1101 gateway clearing, 1121 fares receivable, 1122 subsidies receivable (by party), 1123 receivable from employers (by party)"`
		Party   string `json:"party,omitempty" maxLength:"200" doc:"Whose balance, on an account kept by party (subsidy:students, merchant:9)"`
		Amount  int64  `json:"amount_fen" minimum:"1" doc:"Fen to write off, at most the balance"`
		Reason  string `json:"reason" minLength:"1" maxLength:"500" doc:"Why (required)"`
		Key     string `json:"key,omitempty" maxLength:"200" doc:"Your unique key for this write-off: a retry with the same key posts nothing new (an Idempotency-Key header also replays the answer)"`
	}
}

func (s *Server) writeOff(ctx context.Context, in *writeOffInput) (*body[ledgerEntry], error) {
	e, err := s.deps.Ledger.WriteOff(ctx, ledger.WriteOff{Account: ledger.Code(in.Body.Account), Party: in.Body.Party, Fen: in.Body.Amount, Reason: in.Body.Reason, Key: in.Body.Key})
	if err != nil {
		return nil, err
	}
	return &body[ledgerEntry]{ledgerEntryOf(e)}, nil
}

// ledgerCheckView is the journal's check with the trial balance.
type ledgerCheckView struct {
	Problems []ledgerProblem `json:"problems"`
	Trial    ledgerTrialView `json:"trial_balance"`
	Sound    bool            `json:"sound" doc:"No problem, and the trial balance balances"`
}

func (s *Server) ledgerCheck(ctx context.Context, _ *struct{}) (*body[ledgerCheckView], error) {
	r, err := s.deps.Ledger.Check(ctx)
	if err != nil {
		return nil, err
	}
	v := ledgerCheckView{Problems: make([]ledgerProblem, len(r.Problems)), Trial: trialOf(r.Trial), Sound: r.Sound}
	for i, p := range r.Problems {
		v.Problems[i] = ledgerProblem{p}
	}
	return &body[ledgerCheckView]{v}, nil
}

type merchantBalanceInput struct {
	Before int64 `query:"before" minimum:"0" doc:"Paging: entries older than this ID (the previous page's next_before)"`
	Limit  int   `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

// merchantLedgerBalance is the merchant's own balances and entries.
type merchantLedgerBalance struct {
	Party      string              `json:"party"`
	Balances   []ledgerBalanceView `json:"balances"`
	Entries    []ledgerEntry       `json:"entries"`
	NextBefore int64               `json:"next_before,omitempty"`
}

func (s *Server) merchantBalance(ctx context.Context, in *merchantBalanceInput) (*body[merchantLedgerBalance], error) {
	st, err := s.deps.Ledger.Own(ctx, scopeOf(ctx), ledger.Filter{BeforeID: in.Before, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	return &body[merchantLedgerBalance]{merchantLedgerBalance{Party: st.Party, Balances: balancesOf(st.Balances), Entries: ledgerEntries(st.Entries), NextBefore: st.NextBefore}}, nil
}
