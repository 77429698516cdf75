package employer

import (
	"strconv"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/merchant"
)

// PayStatus is where a top-up or a bill is with its money.
type PayStatus string

// Payment states of top-ups and bills.
const (
	Pending PayStatus = "pending" // a top-up waiting for its payment
	Issued  PayStatus = "issued"  // a bill waiting to be paid
	Paid    PayStatus = "paid"
	Closed  PayStatus = "closed" // a top-up not paid in time
)

// InvoiceBuyer is who a top-up or a bill is for, as an invoice names it.
type InvoiceBuyer struct {
	Name      string `json:"name"`
	TaxNumber string `json:"tax_number"` // the unified social credit code
}

// ChargeLine is one line of a top-up or a bill, for its invoice.
type ChargeLine struct {
	ZH        string `json:"description_zh"`
	EN        string `json:"description_en"`
	AmountFen int64  `json:"amount_fen"`
}

// TopUp is money a prepaid employer pays in through the gateway: once paid
// it is the allowance campaign's budget, and the employer's prepaid
// balance in the ledger.
type TopUp struct {
	ID        int64        `json:"id"`
	Employer  int64        `json:"employer_id"`
	AmountFen int64        `json:"amount_fen"`
	Status    PayStatus    `json:"status"`
	Buyer     InvoiceBuyer `json:"buyer"`
	Lines     []ChargeLine `json:"lines"`
	PaymentID string       `json:"payment_id,omitempty"`
	PayURL    string       `json:"pay_url,omitempty"`
	CreatedBy int64        `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
	ExpiresAt time.Time    `json:"expires_at"`
	PaidAt    time.Time    `json:"paid_at,omitzero"`
	ClosedAt  time.Time    `json:"closed_at,omitzero"`
	// RefundID is the gateway refund of a payment that came after the
	// top-up closed (the whole payment goes back).
	RefundID string `json:"refund_id,omitempty"`
}

// Bill is an invoiced employer's bill for one month: what settlement
// charged it that month. Issuing it moves the amount from the employer's
// prepaid account (run into debit by the rides) to what it owes; paying it
// through the gateway settles that.
type Bill struct {
	ID        int64        `json:"id"`
	Employer  int64        `json:"employer_id"`
	Month     string       `json:"month"` // YYYY-MM
	AmountFen int64        `json:"amount_fen"`
	Status    PayStatus    `json:"status"`
	Buyer     InvoiceBuyer `json:"buyer"`
	Lines     []ChargeLine `json:"lines"`
	PaymentID string       `json:"payment_id,omitempty"`
	PayURL    string       `json:"pay_url,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	PaidAt    time.Time    `json:"paid_at,omitzero"`
}

// Limits on a top-up.
const (
	MinTopUp = 100              // ¥1
	MaxTopUp = 100_000_000      // ¥1,000,000
	PayFor   = 30 * time.Minute // how long the employer has to pay
)

// TopUpSubject and BillSubject name them in the audit trail and as ledger
// refs.
func TopUpSubject(id int64) string { return "topup:" + strconv.FormatInt(id, 10) }

// BillSubject names a bill in the audit trail and as its ledger ref.
func BillSubject(id int64) string { return "bill:" + strconv.FormatInt(id, 10) }

// Party is an employer as the ledger's by-party accounts name it.
func Party(employer int64) string { return ledger.Party("merchant", employer) }

// TopUpEntry is the journal entry of a paid top-up: the gateway holds the
// money, the employer's prepaid balance grows. prepaid is the account the
// organisation's prepaid value is kept in (ledger.PrepaidAccount of its
// kind), the same one settlement draws its rides from.
func TopUpEntry(t TopUp, prepaid ledger.Code, paymentID string, at time.Time) ledger.Entry {
	e := ledger.Build("topup:"+strconv.FormatInt(t.ID, 10)+":paid", ledger.KindTopUp, TopUpSubject(t.ID), at,
		"employer top-up",
		ledger.Debit(ledger.GatewayClearing, "", t.AmountFen),
		ledger.Credit(prepaid, Party(t.Employer), t.AmountFen))
	e.External = paymentID
	return e
}

// BillKey is the journal key of an employer's bill for a month: one bill
// per employer and month, posted once.
func BillKey(employer int64, month string) string {
	return "bill:" + strconv.FormatInt(employer, 10) + ":" + month
}

// BillEntry is the journal entry that issues a bill: what the rides drew
// from the prepaid account becomes what the employer owes. A bill of 0
// posts nothing.
func BillEntry(b Bill, prepaid ledger.Code, at time.Time) ledger.Entry {
	return ledger.Build(BillKey(b.Employer, b.Month), ledger.KindBill, BillSubject(b.ID), at, "employer monthly bill "+b.Month,
		ledger.Debit(ledger.EmployerReceivable, Party(b.Employer), b.AmountFen),
		ledger.Credit(prepaid, Party(b.Employer), b.AmountFen))
}

// PrepaidOf is the account an organisation's prepaid value is in.
func PrepaidOf(org merchant.Merchant) ledger.Code { return ledger.PrepaidAccount(string(org.Kind)) }

// BillPaidEntry is the journal entry of a bill paid through the gateway.
func BillPaidEntry(b Bill, paymentID string, at time.Time) ledger.Entry {
	e := ledger.Build(BillKey(b.Employer, b.Month)+":paid", ledger.KindBill, BillSubject(b.ID), at, "employer bill paid "+b.Month,
		ledger.Debit(ledger.GatewayClearing, "", b.AmountFen),
		ledger.Credit(ledger.EmployerReceivable, Party(b.Employer), b.AmountFen))
	e.External = paymentID
	return e
}

// Order references of the gateway payments of top-ups and bills.
const (
	topUpRef = "piao-topup-"
	billRef  = "piao-bill-"
)

// PaymentRef is the gateway order reference of a top-up or bill.
func PaymentRef(bill bool, id int64) string {
	if bill {
		return billRef + strconv.FormatInt(id, 10)
	}
	return topUpRef + strconv.FormatInt(id, 10)
}

// ParseRef reads an order reference back: whether it is a bill's, and the ID.
func ParseRef(ref string) (bill bool, id int64, ok bool) {
	s, isTopUp := strings.CutPrefix(ref, topUpRef)
	if !isTopUp {
		var isBill bool
		if s, isBill = strings.CutPrefix(ref, billRef); !isBill {
			return false, 0, false
		}
		bill = true
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return bill, id, err == nil && id > 0 && strconv.FormatInt(id, 10) == s
}

// Errors of money.
var (
	ErrTopUpNotFound = fault.New(fault.NotFound, "topup_not_found", "没有这笔充值", "there is no such top-up")
	ErrBillNotFound  = fault.New(fault.NotFound, "bill_not_found", "没有这张账单", "there is no such bill")
	errBadRef        = fault.New(fault.Invalid, "employer_ref_invalid", "无法识别的订单号", "the order reference names no top-up or bill")
	errAmount        = fault.New(fault.Invalid, "payment_amount_mismatch", "支付金额不符", "the amount paid is not the amount due")
)
