package app

import (
	"context"
	"time"

	"piao/internal/fault"
	"piao/internal/merchant"
	"piao/internal/payment"
	"piao/internal/purchase"
	"piao/internal/tenant"
)

// purchaseSweep is how often expired purchases are closed and pending
// campaign refunds retried.
const purchaseSweep = time.Minute

// startPurchases builds merchants' batch purchases over the payment
// gateway and the benefits service's campaigns (or PurchaseCampaigns, if
// set), and runs their sweep. Without a gateway the service stays nil and
// its routes answer 503 purchases_unavailable.
func (a *App) startPurchases(ctx context.Context, rt Runtime, pay payment.Gateway) {
	if pay == nil {
		return
	}
	campaigns := a.PurchaseCampaigns
	if campaigns == nil {
		campaigns = a.Benefits // read at Start, after UseRideCodes may have replaced it
	}
	a.Purchases = purchase.New(a.PurchaseStore, purchase.Config{
		Now: a.Now, Gateway: pay, Campaigns: campaigns, Audit: a.Audit,
		NotifyURL: rt.BaseURL + "/api/v1/merchant-purchases/notify", ReturnURL: rt.BaseURL + "/merchant/purchases/",
		Limits: rt.PurchaseLimits, Refunds: rt.PurchaseRefunds, MerchantKind: merchantKind(a.db.Merchant()),
	})
	go a.Purchases.Run(ctx, purchaseSweep)
}

// merchantKind tells a merchant organisation's kind from the merchant
// store, for the journal's choice of prepaid account.
func merchantKind(st merchant.Store) func(context.Context, int64) (string, error) {
	return func(ctx context.Context, id int64) (string, error) {
		m, err := st.Merchant(ctx, tenant.All(), id)
		if fault.Is(err, fault.NotFound) {
			return "", nil // no such organisation: a plain merchant's account
		}
		return string(m.Kind), err
	}
}
