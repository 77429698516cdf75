package sqlrow

import (
	"encoding/json"

	"piao/internal/fault"
	"piao/internal/sale"
)

// SaleColumns are the columns of sale_offers, sale_purchases and
// sale_refunds that the sale scanners read.
const SaleColumns = `id, version, body`

// SaleBody is a sale row's body column: its JSON (the ID and version, which
// are columns of their own, are overwritten on reading).
func SaleBody(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), fault.Wrap(err, "encode sale row")
}

// scanBody reads SaleColumns into v, setting its ID and version; no row is
// missing.
func scanBody[T any](r Row, missing error, set func(*T, int64, int)) (T, error) {
	var v T
	var id int64
	var version int
	var body string
	if err := r.Scan(&id, &version, &body); err != nil {
		return v, NoRowsAs(fault.Wrap(err, "read sale row"), missing)
	}
	err := json.Unmarshal([]byte(body), &v)
	set(&v, id, version)
	return v, fault.Wrap(err, "decode sale row")
}

// ScanOffer reads SaleColumns of sale_offers; no row is sale.ErrOfferNotFound.
func ScanOffer(r Row) (sale.Offer, error) {
	return scanBody(r, sale.ErrOfferNotFound, func(o *sale.Offer, id int64, v int) { o.ID, o.Version = id, v })
}

// ScanSalePurchase reads SaleColumns of sale_purchases; no row is sale.ErrNotFound.
func ScanSalePurchase(r Row) (sale.Purchase, error) {
	return scanBody(r, sale.ErrNotFound, func(p *sale.Purchase, id int64, v int) { p.ID, p.Version = id, v })
}

// ScanSaleRefund reads SaleColumns of sale_refunds; no row is sale.ErrRefundNotFound.
func ScanSaleRefund(r Row) (sale.Refund, error) {
	return scanBody(r, sale.ErrRefundNotFound, func(x *sale.Refund, id int64, v int) { x.ID, x.Version = id, v })
}
