package app

import (
	"context"
	"time"

	"piao/internal/payment"
	"piao/internal/sale"
)

// saleSweep is how often expired passenger purchases are closed, paid ones
// finished issuing and pending refunds retried.
const saleSweep = time.Minute

// startSales builds passengers' purchases of tickets on sale over the
// payment gateway and the benefits service, and runs their sweep. Without
// a gateway the service stays nil and its routes answer 503
// sales_unavailable.
func (a *App) startSales(ctx context.Context, rt Runtime, pay payment.Gateway) {
	if pay == nil {
		return
	}
	a.Sales = sale.New(a.db.Sales(), sale.Config{
		Now: a.Now, Gateway: pay, Benefits: a.Benefits, Audit: a.Audit,
		NotifyURL: rt.BaseURL + "/api/v1/ticket-purchases/notify", ReturnURL: rt.BaseURL + "/h5/shop/purchases/",
	})
	go a.Sales.Run(ctx, saleSweep)
}
