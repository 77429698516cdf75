// Package invoice issues piao's invoices (发票, SPEC B5, issue 24 item 5):
// one blue (normal) invoice for each business event a buyer paid for — a
// merchant's purchase, an employer's top-up or monthly bill, a passenger's
// purchase — and one red (红字, reversing) invoice for each refund of one,
// with negative quantities and amounts, naming the blue invoice it reverses.
//
// An invoice is numbered PIAO<year><serial>, the serial counting from 1 in
// each issue year (Asia/Shanghai) with no gap: the number is taken in the
// transaction that stores the invoice, so an invoice that fails to store
// takes no number, and two invoices never share one (the numbers are also
// a unique column). Issuing is idempotent per event: an invoice's kind and
// Ref are unique, and asking again answers the invoice already issued.
//
// Amounts are integer fen. The invoice shows the tax included in its total
// at the operator's rate: tax = MulDivRound(total, rate, 10000 + rate) with
// the rate in basis points (ledger's one rounding rule: halves away from
// zero), computed once on the total, so a red invoice reversing a whole blue
// one shows exactly its tax negated. The lines' amounts include tax.
//
// Render turns an invoice into a PDF with an embedded Chinese font. The
// package imports no store and no adapter.
package invoice

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/merchant"
	"piao/internal/tenant"
)

// Kind is whether an invoice bills (blue) or reverses (red).
type Kind string

// The kinds of invoice.
const (
	Blue Kind = "blue" // a normal invoice (蓝字发票)
	Red  Kind = "red"  // a reversing invoice for a refund (红字发票)
)

// Valid reports whether k is a kind of invoice.
func (k Kind) Valid() bool { return k == Blue || k == Red }

// Party is a buyer or the seller: its name and tax number (纳税人识别号:
// an organisation's unified social credit code). A buyer also has its
// owner: "merchant:7" for a merchant (or an employer, a merchant of kind
// employer), "account:3" for a passenger.
type Party struct {
	Owner     string `json:"owner,omitempty"`
	Name      string `json:"name"`
	TaxNumber string `json:"tax_number,omitempty"`
}

// Item is one line of an invoice: a quantity of something at a unit price,
// its amount (quantity × unit price) in fen, tax included. A red invoice's
// lines have negative quantities and amounts.
type Item struct {
	Name         string `json:"name"`
	Quantity     int64  `json:"quantity"`
	UnitPriceFen int64  `json:"unit_price_fen"`
	AmountFen    int64  `json:"amount_fen"`
}

// Invoice is one issued invoice. It never changes once issued.
type Invoice struct {
	ID     int64  `json:"id"`
	Number string `json:"number"`
	Kind   Kind   `json:"kind"`
	// Ref is the business event the invoice is for ("purchase:12",
	// "refund:mpr-3-12", "topup:5", "bill:9"): unique per kind.
	Ref string `json:"ref"`
	// Reverses is, on a red invoice, the number of the blue invoice it
	// reverses, and ReversesRef that invoice's Ref.
	Reverses    string `json:"reverses,omitempty"`
	ReversesRef string `json:"reverses_ref,omitempty"`
	Buyer       Party  `json:"buyer"`
	Seller      Party  `json:"seller"`
	Items       []Item `json:"items"`
	// TotalFen is the sum of the lines' amounts (negative on a red invoice).
	TotalFen int64 `json:"total_fen"`
	// TaxRateBP is the tax rate shown, in basis points (600 is 6 %), and
	// TaxFen the tax included in the total at that rate.
	TaxRateBP int64     `json:"tax_rate_bp"`
	TaxFen    int64     `json:"tax_fen"`
	IssuedAt  time.Time `json:"issued_at"`
}

// Merchant is the merchant a merchant-owned invoice was issued to (0 for
// a passenger's invoice).
func (inv Invoice) Merchant() int64 {
	id, _ := tenant.MerchantOf(inv.Buyer.Owner)
	return id
}

// Account is the passenger account an invoice was issued to (0 for a
// merchant's invoice).
func (inv Invoice) Account() int64 {
	id, _ := AccountOf(inv.Buyer.Owner)
	return id
}

// AccountOwner is the owner string of a passenger account ("account:3").
func AccountOwner(account int64) string { return ledger.Party("account", account) }

// AccountOf returns the account an owner string names, if it names one.
func AccountOf(owner string) (int64, bool) {
	s, ok := strings.CutPrefix(owner, "account:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0 && strconv.FormatInt(id, 10) == s
}

// Request asks for an invoice. Items are given as sold (positive): a red
// invoice negates their quantities and amounts.
type Request struct {
	Kind Kind
	// Ref names the business event; an invoice of this kind and Ref is
	// issued once.
	Ref string
	// Reverses is, for a red invoice, the Ref of the blue invoice it
	// reverses (which must have been issued). Its buyer is the red one's.
	Reverses string
	// Buyer is who the (blue) invoice is made out to.
	Buyer Party
	Items []Item
}

// Limits of a request.
const (
	MaxItems     = 50
	maxNameRunes = 100
	// MaxTotalFen is the largest total an invoice may have (¥100,000,000).
	MaxTotalFen = 10_000_000_000
)

// Errors an invoice request is refused with.
var (
	ErrNotFound        = fault.New(fault.NotFound, "invoice_not_found", "没有这张发票", "there is no such invoice")
	ErrExists          = fault.New(fault.Conflict, "invoice_exists", "该业务已开具发票", "an invoice was already issued for this business event")
	ErrOriginalMissing = fault.New(fault.Conflict, "invoice_original_missing", "要冲红的蓝字发票尚未开具", "the blue invoice to reverse has not been issued")
	ErrOverReversal    = fault.New(fault.Conflict, "invoice_over_reversal", "红字发票金额不能超过原蓝字发票金额", "a red invoice cannot reverse more than its blue invoice's total")
	errKind            = fault.New(fault.Invalid, "invoice_kind", "发票种类只能是 blue 或 red", "the invoice kind must be blue or red")
	errRef             = fault.New(fault.Invalid, "invoice_ref", "请填写发票对应的业务（ref）", "give the business event the invoice is for (ref)")
	errReverses        = fault.New(fault.Invalid, "invoice_reverses", "红字发票须注明冲红的蓝字发票业务（reverses），蓝字发票不能填写", "a red invoice names the blue invoice it reverses (reverses); a blue one names none")
	errBuyer           = fault.New(fault.Invalid, "invoice_buyer", "购买方须为商户（merchant:N）或乘客账户（account:N），并有名称", "the buyer must be a merchant (merchant:N) or a passenger account (account:N), with a name")
	errNoItems         = fault.Newf(fault.Invalid, "invoice_items", "发票须有 1–%d 行项目", "an invoice has 1 to %d lines", MaxItems)
	errItem            = fault.Newf(fault.Invalid, "invoice_item", "项目须有名称（至多 %d 字）、正数数量、非负单价，金额等于数量×单价", "each line needs a name (at most %d characters), a positive quantity, a unit price of 0 or more, and an amount of quantity × unit price", maxNameRunes)
	errTotal           = fault.Newf(fault.Invalid, "invoice_total", "发票金额须在 1 分至 %s 之间", "an invoice's total must be between 1 fen and %s", Yuan(MaxTotalFen))
)

// Check validates a request's own fields (not whether its original exists)
// and returns the total of its lines.
func (r Request) Check() (int64, error) {
	if !r.Kind.Valid() {
		return 0, errKind
	}
	if strings.TrimSpace(r.Ref) == "" || len(r.Ref) > 200 {
		return 0, errRef
	}
	if (r.Kind == Red) != (r.Reverses != "") {
		return 0, errReverses
	}
	if r.Kind == Blue {
		if err := r.Buyer.check(); err != nil {
			return 0, err
		}
	}
	if len(r.Items) == 0 || len(r.Items) > MaxItems {
		return 0, errNoItems
	}
	var total int64
	for _, it := range r.Items {
		if err := it.check(); err != nil {
			return 0, err
		}
		total += it.AmountFen
		if total > MaxTotalFen {
			return 0, errTotal
		}
	}
	if total < 1 {
		return 0, errTotal
	}
	return total, nil
}

func (p Party) check() error {
	_, merchantOK := tenant.MerchantOf(p.Owner)
	_, accountOK := AccountOf(p.Owner)
	if (!merchantOK && !accountOK) || strings.TrimSpace(p.Name) == "" || utf8.RuneCountInString(p.Name) > maxNameRunes {
		return errBuyer
	}
	if merchantOK || p.TaxNumber != "" {
		// An organisation's tax number is its unified social credit code;
		// a passenger may give one to make the invoice out to a company.
		if _, err := merchant.CheckCreditCode(p.TaxNumber); err != nil {
			return err
		}
	}
	return nil
}

func (it Item) check() error {
	name := strings.TrimSpace(it.Name)
	if name == "" || utf8.RuneCountInString(name) > maxNameRunes || it.Quantity < 1 || it.UnitPriceFen < 0 ||
		it.UnitPriceFen > MaxTotalFen || it.Quantity > MaxTotalFen || it.AmountFen < 0 {
		return errItem
	}
	// Both are at most 10^10, so the product cannot overflow.
	if it.Quantity*it.UnitPriceFen != it.AmountFen {
		return errItem
	}
	return nil
}

// Tax is the tax included in a total at rateBP basis points:
// total × rate ÷ (10000 + rate), halves away from zero (ledger.MulDivRound).
func Tax(totalFen, rateBP int64) int64 {
	if rateBP <= 0 {
		return 0
	}
	return ledger.MulDivRound(totalFen, rateBP, 10_000+rateBP)
}

// Prefix starts every invoice number.
const Prefix = "PIAO"

// Number is the invoice number of the serial-th invoice of year:
// PIAO2026000123 (six digits at least).
func Number(year int, serial int64) string {
	s := strconv.FormatInt(serial, 10)
	if len(s) < 6 {
		s = strings.Repeat("0", 6-len(s)) + s
	}
	return Prefix + strconv.Itoa(year) + s
}

// Shanghai is the business time zone: issue dates and years are taken in it.
var Shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// Year is the issue year of an invoice issued at t (Asia/Shanghai), whose
// serial it takes.
func Year(t time.Time) int { return t.In(Shanghai).Year() }

// Yuan shows fen as ¥1,234.56 (-¥1,234.56 below zero).
func Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	whole := strconv.FormatInt(fen/100, 10)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	cents := fen % 100
	return sign + "¥" + b.String() + "." + string(rune('0'+cents/10)) + string(rune('0'+cents%10))
}

// Rate shows basis points as a percentage: 600 is "6%", 150 is "1.5%".
func Rate(bp int64) string {
	s := strconv.FormatInt(bp/100, 10)
	if frac := bp % 100; frac != 0 {
		f := strconv.FormatInt(100+frac, 10)[1:]
		s += "." + strings.TrimRight(f, "0")
	}
	return s + "%"
}

var errRate = fault.New(fault.Invalid, "invoice_tax_rate", "税率须为 0%–100% 的百分数，至多两位小数，如 6% 或 1.5%", "a tax rate is a percentage from 0% to 100% with at most two decimals, such as 6% or 1.5%")

// ParseRate reads a tax rate written as a percentage ("6%", "1.5", "0%")
// into basis points.
func ParseRate(s string) (int64, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "%")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 {
		return 0, errRate
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || w > 100 {
		return 0, errRate
	}
	bp := w * 100
	if frac != "" {
		f, err := strconv.ParseInt((frac + "0")[:2], 10, 64)
		if err != nil || f < 0 {
			return 0, errRate
		}
		bp += f
	}
	if bp > 10_000 {
		return 0, errRate
	}
	return bp, nil
}
