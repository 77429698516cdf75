package purchase

import (
	"context"
	"strconv"
	"time"

	"piao/internal/ledger"
	"piao/internal/tenant"
)

// The journal entries of merchant purchases (SPEC B5). What a merchant
// pays for a campaign's stock is its prepaid value (MerchantPrepaid, or
// EmployerPrepaid for an employer: ledger.PrepaidAccount) until rides
// spend it at settlement or the unused rest goes back. Each entry is posted
// by the store in the transaction that records the change.

// PaidKey is the key of a purchase's payment entry.
func PaidKey(id int64) string { return "purchase:" + strconv.FormatInt(id, 10) + ":paid" }

// RefundRef is what a campaign refund's entries are about.
func RefundRef(refundID int64) string { return "purchase_refund:" + strconv.FormatInt(refundID, 10) }

// RefundPartKey is the key of the entry of one gateway refund of a
// campaign refund (one per paid purchase it is returned against).
func RefundPartKey(refundID, purchaseID int64) string {
	return RefundRef(refundID) + ":part:" + strconv.FormatInt(purchaseID, 10)
}

// RefundFeeKey is the key of the entry of a campaign refund's fee.
func RefundFeeKey(refundID int64) string { return RefundRef(refundID) + ":fee" }

// LatePaymentKey and LateRefundKey are the keys of the two entries of a
// payment that could not buy anything (the purchase was closed or paid
// already) and its return; the same keys as rail's, by payment ID.
func LatePaymentKey(paymentID string) string { return "payment:" + paymentID + ":late" }

// LateRefundKey is the key of the return of a late payment.
func LateRefundKey(paymentID string) string { return "payment:" + paymentID + ":late_refund" }

// prepaidAccount is the account a merchant's prepaid value is kept in.
func (s *Service) prepaidAccount(ctx context.Context, merchant int64) (ledger.Code, error) {
	if s.cfg.MerchantKind == nil {
		return ledger.MerchantPrepaid, nil
	}
	kind, err := s.cfg.MerchantKind(ctx, merchant)
	if err != nil {
		return "", err
	}
	return ledger.PrepaidAccount(kind), nil
}

// paidEntry records a purchase's payment: the gateway holds the money, the
// merchant's prepaid value grows by it.
func paidEntry(p Purchase, account ledger.Code) ledger.Entry {
	e := ledger.Build(PaidKey(p.ID), ledger.KindPurchase, subject(p.ID), p.PaidAt, "campaign stock bought",
		ledger.Debit(ledger.GatewayClearing, "", p.AmountFen),
		ledger.Credit(account, tenant.OwnerOf(p.Merchant), p.AmountFen))
	e.External = p.PaymentID
	return e
}

// lateEntries record a payment that bought nothing and its return in
// full: owed back (RefundsPayable) from the moment it landed, and returned
// through the gateway; posted together once the gateway accepted the
// return. Each names its own gateway ID, for reconciliation.
func lateEntries(ref, paymentID string, amount int64, at time.Time) []ledger.Entry {
	in := ledger.Build(LatePaymentKey(paymentID), ledger.KindPayment, ref, at, "payment that bought nothing: owed back",
		ledger.Debit(ledger.GatewayClearing, "", amount),
		ledger.Credit(ledger.RefundsPayable, "", amount))
	in.External = paymentID
	out := ledger.Build(LateRefundKey(paymentID), ledger.KindRefund, ref, at, "payment returned",
		ledger.Debit(ledger.RefundsPayable, "", amount),
		ledger.Credit(ledger.GatewayClearing, "", amount))
	out.External = lateRefundID(paymentID)
	return []ledger.Entry{in, out}
}

// refundPartEntry records one gateway refund of a campaign's unused
// value: the merchant's prepaid value goes back through the gateway.
func refundPartEntry(r Refund, part RefundPart, account ledger.Code, at time.Time) ledger.Entry {
	e := ledger.Build(RefundPartKey(r.ID, part.PurchaseID), ledger.KindRefund, RefundRef(r.ID), at,
		"unused value of campaign "+strconv.FormatInt(r.CampaignID, 10)+" returned",
		ledger.Debit(account, tenant.OwnerOf(r.Merchant), part.AmountFen),
		ledger.Credit(ledger.GatewayClearing, "", part.AmountFen))
	e.External = part.RefundID
	return e
}

// refundFeeEntry records the fee a campaign refund kept (none when zero):
// taken from the merchant's prepaid value, the operator's income.
func refundFeeEntry(r Refund, account ledger.Code, at time.Time) (ledger.Entry, bool) {
	e := ledger.Build(RefundFeeKey(r.ID), ledger.KindRefund, RefundRef(r.ID), at,
		"fee of the refund of campaign "+strconv.FormatInt(r.CampaignID, 10),
		ledger.Debit(account, tenant.OwnerOf(r.Merchant), r.FeeFen),
		ledger.Credit(ledger.FeeIncome, "", r.FeeFen))
	return e, r.FeeFen > 0
}
