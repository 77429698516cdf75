// Package ledger is piao's double-entry book of money (SPEC B5): a chart of
// accounts, journal entries of balanced postings in integer fen, balances per
// account and per party (a merchant, an employer, a passenger), a trial
// balance, and the checks `piao ledger check` runs.
//
// An entry is immutable once posted and corrected only by a reversing entry.
// Every entry names the business event it records (its Key, unique: posting
// the same event twice stores it once) and the thing it is about (its Ref,
// "purchase:12", "settlement_batch:9"). The domains that move money build
// their entries with this package and hand them to their own store, which
// posts them in the same transaction as the change they record, so there is
// never a business change without its entry nor an entry without its change.
//
// Rounding: money is integer fen from end to end; no float is ever on a money
// path. Where an amount must be divided (a fee in basis points, a pack's
// price spread over its rides) the rule is Share: halves round up, and the
// last part takes what is left, so parts always add up to the whole.
package ledger

import (
	"strconv"
	"strings"
	"time"

	"piao/internal/fault"
)

// Code is an account of the chart, by its number.
type Code string

// Kind is what an account is, which says on which side it grows.
type Kind string

// Account kinds. Assets and expenses grow by debits; liabilities, equity and
// revenue grow by credits.
const (
	Asset     Kind = "asset"
	Liability Kind = "liability"
	Equity    Kind = "equity"
	Revenue   Kind = "revenue"
	Expense   Kind = "expense"
)

// DebitNormal reports whether an account of the kind grows by debits.
func (k Kind) DebitNormal() bool { return k == Asset || k == Expense }

// The chart of accounts. docs/MONEY.md explains each with a worked example.
const (
	// GatewayClearing is money the payment channel holds for the operator:
	// every payment through the gateway lands here and every refund leaves
	// from here; the channel's fees are taken from it.
	GatewayClearing Code = "1101"
	// FareReceivable is what riders owe for settled metro trips, their part
	// of each fare, until it is collected (ride first, pay later). It is
	// one account: the settled trips are its detail, rider by rider.
	FareReceivable Code = "1121"
	// SubsidyReceivable is what subsidy schemes owe for the rides their
	// benefits paid.
	SubsidyReceivable Code = "1122"
	// EmployerReceivable is what employers invoiced monthly owe for their
	// employees' allowance rides.
	EmployerReceivable Code = "1123"
	// PassengerPayments is what passengers paid for rail tickets: held for
	// them until the ticket is used or refunded.
	PassengerPayments Code = "2201"
	// PassengerPrepaid is the unused value of count tickets and ride packs
	// passengers bought (by passenger).
	PassengerPrepaid Code = "2202"
	// MerchantPrepaid is the unused value merchants prepaid for their
	// campaigns (by merchant).
	MerchantPrepaid Code = "2203"
	// EmployerPrepaid is the unused prepaid balance of employers (by
	// employer).
	EmployerPrepaid Code = "2204"
	// RefundsPayable is money the operator owes back and has not paid out
	// yet: accepted refunds, payments that arrived for a closed order.
	RefundsPayable Code = "2241"
	// FareRevenue is the operator's revenue from metro fares.
	FareRevenue Code = "6001"
	// TicketRevenue is the operator's revenue from rail tickets.
	TicketRevenue Code = "6002"
	// FeeIncome is what the operator keeps of a refund or a change as its
	// fee.
	FeeIncome Code = "6051"
	// DiscountExpense is what the operator's own discounts and free rides
	// cost it.
	DiscountExpense Code = "6601"
	// ChannelFees is what the payment channel charges the operator.
	ChannelFees Code = "6603"
	// WriteOffs is money the operator gave up on: an uncollectable fare, a
	// difference reconciliation could not explain.
	WriteOffs Code = "6711"
)

// Account is one line of the chart.
type Account struct {
	Code Code   `json:"code"`
	Kind Kind   `json:"kind"`
	Name string `json:"name"`    // English
	Zh   string `json:"name_zh"` // 中文
	// ByParty says the account is kept per party (per merchant, employer
	// or passenger) and every posting to it must name one.
	ByParty bool `json:"by_party"`
}

// Chart is the chart of accounts, in code order.
var Chart = []Account{
	{GatewayClearing, Asset, "Gateway clearing", "支付渠道待清算", false},
	{FareReceivable, Asset, "Fares receivable from riders", "应收乘客车费", false},
	{SubsidyReceivable, Asset, "Subsidies receivable", "应收补贴款", true},
	{EmployerReceivable, Asset, "Receivable from employers", "应收企业款", true},
	{PassengerPayments, Liability, "Passenger payments held", "乘客预收票款", false},
	{PassengerPrepaid, Liability, "Passengers' prepaid tickets", "乘客预付票卡余额", true},
	{MerchantPrepaid, Liability, "Merchants' prepaid balances", "商户预付余额", true},
	{EmployerPrepaid, Liability, "Employers' prepaid balances", "企业预付余额", true},
	{RefundsPayable, Liability, "Refunds payable", "应付退款", false},
	{FareRevenue, Revenue, "Metro fare revenue", "地铁票款收入", false},
	{TicketRevenue, Revenue, "Rail ticket revenue", "铁路客票收入", false},
	{FeeIncome, Revenue, "Refund and change fees", "退改手续费收入", false},
	{DiscountExpense, Expense, "Discount expense", "优惠折让支出", false},
	{ChannelFees, Expense, "Payment channel fees", "支付渠道手续费", false},
	{WriteOffs, Expense, "Write-offs", "核销损失", false},
}

// Lookup returns the chart's account with the code.
func Lookup(c Code) (Account, bool) {
	for _, a := range Chart {
		if a.Code == c {
			return a, true
		}
	}
	return Account{}, false
}

// Kinds of business event an entry records.
const (
	KindPayment    = "payment"    // a passenger paid for rail tickets
	KindPurchase   = "purchase"   // a merchant or a passenger bought prepaid tickets
	KindTopUp      = "top_up"     // an employer topped up its prepaid balance
	KindRefund     = "refund"     // money went back through the gateway
	KindRedemption = "redemption" // settled trips: fares and who bears them
	KindSubsidy    = "subsidy"    // a subsidy scheme paid what it owed
	KindFee        = "fee"        // the payment channel's fees
	KindWriteOff   = "write_off"  // money given up on
	KindBill       = "bill"       // an employer's monthly bill, invoiced or paid
	KindReversal   = "reversal"   // undoes an earlier entry
)

// Posting is one line of an entry: an amount on one side of one account,
// for a party where the account is kept by party. Exactly one of Debit and
// Credit is positive.
type Posting struct {
	Account Code `json:"account"`
	// Party is who the line is about on a by-party account: "merchant:7",
	// "account:42" (a passenger), "subsidy:students"; empty otherwise.
	Party  string `json:"party,omitempty"`
	Debit  int64  `json:"debit_fen,omitempty"`
	Credit int64  `json:"credit_fen,omitempty"`
}

// Debit is a posting of fen on the debit side.
func Debit(account Code, party string, fen int64) Posting {
	return Posting{Account: account, Party: party, Debit: fen}
}

// Credit is a posting of fen on the credit side.
func Credit(account Code, party string, fen int64) Posting {
	return Posting{Account: account, Party: party, Credit: fen}
}

// Entry is one journal entry: balanced postings recording one business
// event.
type Entry struct {
	ID int64 `json:"id"`
	// Key names the business event, unique in the journal:
	// "purchase:12:paid", "refund:purchase:12", "settle:metro:20261207:3".
	Key string `json:"key"`
	// Kind is what the event is (KindPurchase, …).
	Kind string `json:"kind"`
	// Ref is what the event is about, "<kind>:<id>" ("purchase:12",
	// "order:9"): where a reader goes to see the business record.
	Ref string `json:"ref"`
	// External is the payment channel's ID of the money movement the
	// entry records (a payment's or a refund's), when it records one:
	// reconciliation matches the channel's statement by it.
	External string `json:"external,omitempty"`
	// At is when the event happened (a payment's time, a trip batch's
	// settlement); PostedAt when the entry was written.
	At       time.Time `json:"at"`
	PostedAt time.Time `json:"posted_at"`
	Memo     string    `json:"memo,omitempty"`
	// Reverses is the ID of the entry this one undoes (zero for none).
	Reverses int64     `json:"reverses,omitempty"`
	Postings []Posting `json:"postings"`
}

// Refusals of entries that cannot be posted.
var (
	ErrEntryKey     = fault.New(fault.Invalid, "entry_key_missing", "分录缺少业务事件", "the entry names no business event")
	ErrKeyReused    = fault.New(fault.Conflict, "entry_key_reused", "该业务事件已记为不同的分录", "the business event is posted already with different postings")
	ErrReversed     = fault.New(fault.Conflict, "entry_reversed", "该分录已被冲销", "the entry is reversed already")
	ErrNotFound     = fault.New(fault.NotFound, "entry_not_found", "分录不存在", "journal entry not found")
	ErrReverseOfRev = fault.New(fault.Conflict, "entry_is_reversal", "冲销分录不能再冲销", "a reversing entry cannot be reversed; post the entry anew")
)

// Check says whether the entry can be posted: it names its event, has at
// least two postings, each on a chart account with one positive side (and a
// party exactly where the account is kept by party), and its debits equal
// its credits. Sums are checked for overflow.
func (e Entry) Check() error {
	if strings.TrimSpace(e.Key) == "" || e.Kind == "" || e.Ref == "" || e.At.IsZero() {
		return ErrEntryKey
	}
	if len(e.Postings) < 2 {
		return fault.New(fault.Invalid, "entry_unbalanced", "分录至少需要两行", "an entry needs at least two postings")
	}
	var debits, credits int64
	for i, p := range e.Postings {
		a, ok := Lookup(p.Account)
		if !ok {
			return fault.Newf(fault.Invalid, "posting_invalid", "第 %d 行：科目 %s 不在科目表中", "posting %d: account %s is not in the chart", i+1, p.Account)
		}
		if (p.Debit > 0) == (p.Credit > 0) || p.Debit < 0 || p.Credit < 0 {
			return fault.Newf(fault.Invalid, "posting_invalid", "第 %d 行：借方和贷方必须恰有一方为正数", "posting %d: exactly one of debit and credit must be positive", i+1)
		}
		if a.ByParty != (p.Party != "") {
			return fault.Newf(fault.Invalid, "posting_invalid", "第 %d 行：科目 %s 按往来单位核算时必须且只能注明单位", "posting %d: account %s needs a party exactly when it is kept by party", i+1, p.Account)
		}
		if debits > maxSum-p.Debit || credits > maxSum-p.Credit {
			return fault.New(fault.Invalid, "posting_invalid", "分录金额溢出", "the entry's amounts overflow")
		}
		debits += p.Debit
		credits += p.Credit
	}
	if debits != credits {
		return fault.Newf(fault.Invalid, "entry_unbalanced", "分录借贷不平：借方 %d 分，贷方 %d 分", "the entry does not balance: debits %d fen, credits %d fen", debits, credits)
	}
	return nil
}

// maxSum bounds an entry's side: far beyond any real amount, well inside
// int64 so sums of many entries do not overflow either.
const maxSum = int64(1) << 52

// Total is the entry's debits (equal to its credits when it balances).
func (e Entry) Total() int64 {
	var t int64
	for _, p := range e.Postings {
		t += p.Debit
	}
	return t
}

// Build returns an entry of the postings with zero amounts left out, so
// callers can list every part of an event and let the empty ones drop.
func Build(key, kind, ref string, at time.Time, memo string, postings ...Posting) Entry {
	e := Entry{Key: key, Kind: kind, Ref: ref, At: at, Memo: memo}
	for _, p := range postings {
		switch {
		case p.Debit < 0 && p.Credit == 0: // a negative debit is a credit
			p.Debit, p.Credit = 0, -p.Debit
		case p.Credit < 0 && p.Debit == 0:
			p.Debit, p.Credit = -p.Credit, 0
		}
		if p.Debit != 0 || p.Credit != 0 {
			e.Postings = append(e.Postings, p)
		}
	}
	return e
}

// Reversal returns the entry that undoes e: the same postings on the other
// side, recording the correction as an event of its own.
func Reversal(e Entry, at time.Time, reason string) Entry {
	r := Entry{
		Key:      "reverse:" + strconv.FormatInt(e.ID, 10),
		Kind:     KindReversal,
		Ref:      e.Ref,
		External: e.External,
		At:       at,
		Memo:     reason,
		Reverses: e.ID,
	}
	for _, p := range e.Postings {
		r.Postings = append(r.Postings, Posting{Account: p.Account, Party: p.Party, Debit: p.Credit, Credit: p.Debit})
	}
	return r
}

// Same reports whether two entries record the same postings for the same
// event: a retried posting is accepted as the one already stored only then.
func Same(a, b Entry) bool {
	if a.Key != b.Key || a.Kind != b.Kind || a.Ref != b.Ref || a.External != b.External || a.Reverses != b.Reverses || len(a.Postings) != len(b.Postings) {
		return false
	}
	for i := range a.Postings {
		if a.Postings[i] != b.Postings[i] {
			return false
		}
	}
	return true
}

// Share splits whole into parts proportional to weights, in integer fen:
// each part is floor(whole × weight ÷ total) with halves rounded up, and the
// last part takes what is left, so the parts always add up to whole. It is
// the one rounding rule for dividing money.
func Share(whole int64, weights []int64) []int64 {
	parts := make([]int64, len(weights))
	var total int64
	for _, w := range weights {
		total += w
	}
	if total <= 0 || len(weights) == 0 {
		return parts
	}
	var given int64
	for i, w := range weights[:len(weights)-1] {
		parts[i] = MulDivRound(whole, w, total)
		given += parts[i]
	}
	parts[len(parts)-1] = whole - given
	return parts
}

// MulDivRound is a × b ÷ c in integers with halves rounded up (away from
// zero for a non-negative result): the rounding rule for fees in basis
// points (MulDivRound(amount, bp, 10000)) and for shares.
func MulDivRound(a, b, c int64) int64 {
	if c == 0 {
		return 0
	}
	n := a * b
	q, r := n/c, n%c
	if r < 0 {
		r = -r
	}
	if 2*r >= abs(c) {
		if (n < 0) != (c < 0) {
			q--
		} else {
			q++
		}
	}
	return q
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// Party names a party of a by-party account from its kind and ID:
// Party("merchant", 7) is "merchant:7".
func Party(kind string, id int64) string { return kind + ":" + strconv.FormatInt(id, 10) }

// RideShare is the prepaid value one ride of a bought ticket uses: the
// ticket's price spread over its rides, ride used+1 of rides taking
// MulDivRound(paid, used+1, rides) − MulDivRound(paid, used, rides), so the
// rides of a ticket use exactly what was paid, never a fen more or less.
func RideShare(paid int64, rides, used int) int64 {
	if rides <= 0 || used < 0 || used >= rides {
		return 0
	}
	return MulDivRound(paid, int64(used+1), int64(rides)) - MulDivRound(paid, int64(used), int64(rides))
}

// Unused is what remains of a bought ticket's price after used of its rides:
// what a refund of it gives back before any fee.
func Unused(paid int64, rides, used int) int64 {
	if rides <= 0 {
		return 0
	}
	return paid - MulDivRound(paid, int64(min(max(used, 0), rides)), int64(rides))
}

// ParseFixed reads a non-negative decimal with at most places digits after
// the point as an integer of that many places, exactly: ParseFixed("12.5",
// 2) is 1250 (yuan to fen, or percent to basis points). It never goes
// through a float.
func ParseFixed(s string, places int) (int64, bool) {
	s = strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > places || len(whole) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range whole + frac + strings.Repeat("0", places-len(frac)) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// FormatFixed writes n, an integer of places decimal places, as a decimal
// without trailing zeros: FormatFixed(1250, 2) is "12.5", FormatFixed(1200,
// 2) is "12".
func FormatFixed(n int64, places int) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	unit := int64(1)
	for range places {
		unit *= 10
	}
	out := sign + strconv.FormatInt(n/unit, 10)
	if frac := n % unit; frac != 0 {
		digits := strconv.FormatInt(frac+unit, 10)[1:] // zero-padded to places
		out += "." + strings.TrimRight(digits, "0")
	}
	return out
}
