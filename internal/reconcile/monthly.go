package reconcile

import (
	"context"
	"sort"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/payment"
	"piao/internal/sheet"
)

// MonthLayout is how a statement month is written.
const MonthLayout = "2006-01"

var errMonth = fault.New(fault.Invalid, "statement_month_invalid", "月份格式应为 YYYY-MM", "the month must be written YYYY-MM")

// ParseMonth reads a month written YYYY-MM and returns its bounds in
// Asia/Shanghai: the first midnight of the month and of the next.
func ParseMonth(s string) (from, until time.Time, err error) {
	m, err := time.ParseInLocation(MonthLayout, s, payment.Shanghai)
	if err != nil || m.Format(MonthLayout) != s {
		return time.Time{}, time.Time{}, errMonth
	}
	return m, m.AddDate(0, 1, 0), nil
}

// MonthlyStatement is a party's statement of one month: for every account
// it holds a balance on, the balance at the start of the month, every
// posting of the month on it with the balance after it, and the balance at
// the month's end — which is the ledger's balance at that instant.
type MonthlyStatement struct {
	Party    string             `json:"party"` // "merchant:7"
	Month    string             `json:"month"` // YYYY-MM
	From     time.Time          `json:"from"`
	Until    time.Time          `json:"until"`
	Accounts []AccountStatement `json:"accounts"`
}

// AccountStatement is one account of a monthly statement. Balances are on
// the account's normal side (a prepaid balance, a liability, is credits
// less debits: what piao owes the party).
type AccountStatement struct {
	Account    ledger.Code     `json:"account"`
	Name       string          `json:"name"`    // the account's name in English
	NameZh     string          `json:"name_zh"` // and in Chinese
	Kind       ledger.Kind     `json:"kind"`
	OpeningFen int64           `json:"opening_fen"`
	DebitFen   int64           `json:"debit_fen"`  // the month's debits
	CreditFen  int64           `json:"credit_fen"` // the month's credits
	ClosingFen int64           `json:"closing_fen"`
	Lines      []StatementLine `json:"lines"`
}

// StatementLine is one posting of a monthly statement.
type StatementLine struct {
	Posting
	BalanceFen int64 `json:"balance_fen"` // the account's balance after it
}

// Build makes a party's statement of [from, until) from its balances
// before from and its postings in the period (in time order).
func Build(party, month string, from, until time.Time, opening []ledger.Balance, postings []Posting) MonthlyStatement {
	st := MonthlyStatement{Party: party, Month: month, From: from, Until: until}
	byCode := map[ledger.Code]*AccountStatement{}
	get := func(c ledger.Code) *AccountStatement {
		if a, ok := byCode[c]; ok {
			return a
		}
		acc, ok := ledger.Lookup(c)
		if !ok {
			acc = ledger.Account{Code: c, Kind: ledger.Asset, Name: string(c), Zh: string(c)}
		}
		a := &AccountStatement{Account: acc.Code, Name: acc.Name, NameZh: acc.Zh, Kind: acc.Kind, Lines: []StatementLine{}}
		byCode[c] = a
		return a
	}
	for _, b := range opening {
		a := get(b.Account)
		a.OpeningFen = net(a.Kind, b.Debit, b.Credit)
	}
	for _, p := range postings {
		a := get(p.Account)
		a.DebitFen += p.DebitFen
		a.CreditFen += p.CredFen
		a.Lines = append(a.Lines, StatementLine{Posting: p, BalanceFen: a.OpeningFen + net(a.Kind, a.DebitFen, a.CreditFen)})
	}
	for _, a := range byCode {
		a.ClosingFen = a.OpeningFen + net(a.Kind, a.DebitFen, a.CreditFen)
		st.Accounts = append(st.Accounts, *a)
	}
	sort.Slice(st.Accounts, func(i, j int) bool { return st.Accounts[i].Account < st.Accounts[j].Account })
	if st.Accounts == nil {
		st.Accounts = []AccountStatement{}
	}
	return st
}

// net is debit and credit as a balance on the account's normal side.
func net(k ledger.Kind, debit, credit int64) int64 {
	if k.DebitNormal() {
		return debit - credit
	}
	return credit - debit
}

var errParty = fault.New(fault.Invalid, "statement_party_invalid", "往来单位应写作 merchant:N", "the party must be written merchant:N")

// MonthlyStatement returns party's statement of month (YYYY-MM). Parties
// are merchants and employers ("merchant:N").
func (s *Service) MonthlyStatement(ctx context.Context, party, month string) (MonthlyStatement, error) {
	if !strings.HasPrefix(party, "merchant:") {
		return MonthlyStatement{}, errParty
	}
	from, until, err := ParseMonth(month)
	if err != nil {
		return MonthlyStatement{}, err
	}
	opening, postings, err := s.cfg.Store.PartyActivity(ctx, party, from, until)
	if err != nil {
		return MonthlyStatement{}, err
	}
	return Build(party, month, from, until, opening, postings), nil
}

// Table is the statement as an export: per account an opening row, one
// row a posting, and a closing row.
func (st MonthlyStatement) Table(lang string) sheet.Table {
	zh := lang == "zh"
	t := sheet.Table{Name: "statement " + st.Month, Header: []string{"account", "account_name", "at", "entry", "kind", "ref", "memo", "debit_fen", "credit_fen", "balance_fen"}}
	if zh {
		t.Name = "对账单 " + st.Month
		t.Header = []string{"科目", "科目名称", "时间", "分录", "类型", "业务", "摘要", "借方(分)", "贷方(分)", "余额(分)"}
	}
	opening, closing := "opening balance", "closing balance"
	if zh {
		opening, closing = "期初余额", "期末余额"
	}
	for _, a := range st.Accounts {
		name := a.Name
		if zh {
			name = a.NameZh
		}
		t.Add(string(a.Account), name, st.From.In(payment.Shanghai).Format("2006-01-02 15:04:05"), "", "", "", opening, "", "", a.OpeningFen)
		for _, l := range a.Lines {
			t.Add(string(a.Account), name, l.At.In(payment.Shanghai).Format("2006-01-02 15:04:05"), l.EntryID, l.Kind, l.Ref, l.Memo, l.DebitFen, l.CredFen, l.BalanceFen)
		}
		t.Add(string(a.Account), name, st.Until.In(payment.Shanghai).Format("2006-01-02 15:04:05"), "", "", "", closing, a.DebitFen, a.CreditFen, a.ClosingFen)
	}
	return t
}

// Table is a run's differences as an export.
func (r Run) Table(lang string) sheet.Table {
	t := sheet.Table{Name: "reconciliation " + r.Day, Header: []string{"day", "kind", "type", "external", "sides", "statement_fen", "piao_fen", "ledger_fen", "count", "refs", "text"}}
	if lang == "zh" {
		t.Name = "对账差异 " + r.Day
		t.Header = []string{"日期", "差异", "类型", "渠道单号", "涉及方", "对账单(分)", "业务记录(分)", "总账(分)", "次数", "出处", "说明"}
	}
	for _, d := range r.Differences {
		sides := make([]string, len(d.Sides))
		for i, s := range d.Sides {
			sides[i] = string(s)
		}
		amount := func(s Side) any {
			if a, ok := d.Amounts[s]; ok {
				return a
			}
			return ""
		}
		t.Add(r.Day, string(d.Kind), string(d.Type), d.External, strings.Join(sides, " "), amount(Statement), amount(Orders), amount(Ledger), d.Count, strings.Join(d.Refs, " "), d.Text(lang))
	}
	return t
}
