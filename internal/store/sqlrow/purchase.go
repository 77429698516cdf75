package sqlrow

import (
	"encoding/json"

	"piao/internal/fault"
	"piao/internal/purchase"
	"piao/internal/tenant"
)

// ScopeArgs are a scope as two query arguments: whether it sees every
// merchant, and its merchant (0 for none), for "(? OR merchant_id = ?)".
func ScopeArgs(s tenant.Scope) (bool, int64) { return s.IsAll(), s.MerchantID() }

// PurchaseColumns are the columns of purchases that ScanPurchase reads.
const PurchaseColumns = `id, version, body`

// PurchaseBody is a purchase's body column: its JSON without ID and
// version, which are columns of their own.
func PurchaseBody(p purchase.Purchase) (string, error) {
	p.ID, p.Version = 0, 0
	b, err := json.Marshal(p)
	return string(b), fault.Wrap(err, "encode purchase")
}

// ScanPurchase reads PurchaseColumns; no row is purchase.ErrNotFound.
func ScanPurchase(r Row) (purchase.Purchase, error) {
	var p purchase.Purchase
	var id int64
	var version int
	var body string
	if err := r.Scan(&id, &version, &body); err != nil {
		return p, NoRowsAs(fault.Wrap(err, "read purchase"), purchase.ErrNotFound)
	}
	err := json.Unmarshal([]byte(body), &p)
	p.ID, p.Version = id, version
	return p, fault.Wrap(err, "decode purchase")
}

// PurchaseRefundColumns are the columns of purchase_refunds that ScanPurchaseRefund reads.
const PurchaseRefundColumns = `id, version, body`

// PurchaseRefundBody is a refund's body column: its JSON without ID and version.
func PurchaseRefundBody(r purchase.Refund) (string, error) {
	r.ID, r.Version = 0, 0
	b, err := json.Marshal(r)
	return string(b), fault.Wrap(err, "encode refund")
}

// ScanPurchaseRefund reads PurchaseRefundColumns; no row is purchase.ErrRefundNotFound.
func ScanPurchaseRefund(r Row) (purchase.Refund, error) {
	var rf purchase.Refund
	var id int64
	var version int
	var body string
	if err := r.Scan(&id, &version, &body); err != nil {
		return rf, NoRowsAs(fault.Wrap(err, "read refund"), purchase.ErrRefundNotFound)
	}
	err := json.Unmarshal([]byte(body), &rf)
	rf.ID, rf.Version = id, version
	return rf, fault.Wrap(err, "decode refund")
}
