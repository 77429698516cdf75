package app

import (
	"context"
	"time"

	"piao/internal/employer"
	"piao/internal/payment"
)

// allowanceEvery is how often, by default, the current month's allowances
// are issued, last month's bills made and expired top-ups closed: each is
// keyed per employee (or employer) and month, so running often only
// catches newcomers sooner.
const allowanceEvery = time.Hour

// employerService builds employee benefits over the benefits service of
// this moment, with the gateway that takes top-ups and bill payments (nil:
// none, as for the command line's issue).
func (a *App) employerService(base string, pay payment.Gateway) *employer.Service {
	return employer.New(a.EmployerStore, employer.Config{
		Now: a.Now, Benefits: a.Benefits, Accounts: a.Identity.Store, Merchants: a.Merchants, Gateway: pay, Audit: a.Audit,
		NotifyURL: base + "/api/v1/employer-payments/notify", ReturnURL: base + "/merchant/top-ups",
	})
}

// startEmployers rebuilds employee benefits with the gateway and runs its
// periodic issue, billing and top-up sweep every rt.AllowanceEvery.
func (a *App) startEmployers(ctx context.Context, rt Runtime, pay payment.Gateway) {
	a.Employers = a.employerService(rt.BaseURL, pay)
	every := rt.AllowanceEvery
	if every <= 0 {
		every = allowanceEvery
	}
	go a.Employers.Run(ctx, every)
}
