package app

import (
	"context"
	"time"

	"piao/internal/payment"
	"piao/internal/purchase"
)

// purchaseSweep is how often expired purchases are closed and pending
// campaign refunds retried.
const purchaseSweep = time.Minute

// startPurchases builds merchants' batch purchases over the payment
// gateway and runs their sweep. Purchases run only with a gateway and the
// campaigns they buy stock for (PurchaseCampaigns); without either the
// service stays nil and its routes answer 503 purchases_unavailable.
func (a *App) startPurchases(ctx context.Context, rt Runtime, pay payment.Gateway) {
	if pay == nil || a.PurchaseCampaigns == nil {
		return
	}
	a.Purchases = purchase.New(a.PurchaseStore, purchase.Config{
		Now: a.Now, Gateway: pay, Campaigns: a.PurchaseCampaigns, Audit: a.Audit,
		NotifyURL: rt.BaseURL + "/api/v1/merchant-purchases/notify", ReturnURL: rt.BaseURL + "/merchant/purchases/",
		Limits: rt.PurchaseLimits, Refunds: rt.PurchaseRefunds,
	})
	go a.Purchases.Run(ctx, purchaseSweep)
}
