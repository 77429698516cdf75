package main

import (
	"net/http"
	"strings"

	"piao/internal/app"
	"piao/internal/console"
	"piao/internal/distribution"
)

// mountConsole returns the function that adds the web console to the mux.
func mountConsole(a *app.App, publicURL string) func(*http.ServeMux) {
	c := console.New(console.Deps{Identity: a.Identity, Catalog: a.Catalog, Booking: a.Booking, Governance: a.Governance, Benefits: a.Benefits, Metro: a.Metro, Subsidy: a.Subsidy, Audit: a.Audit, Merchants: a.Merchants, Purchases: a.Purchases, Sales: a.Sales, Invoices: a.Invoices, Employers: a.Employers, PublicURL: publicURL,
		Distribution: distribution.NewService(a.DistributionStore, distribution.Config{Benefits: a.Benefits, Audit: a.Audit, Now: a.Now}), Version: app.Version,
		Ledger: a.Ledger, Reconcile: a.Reconciliation(),
		Guard: a.Guard, SecureCookies: strings.HasPrefix(publicURL, "https://")})
	a.PageBodyLimits = console.BodyLimits()
	return c.Mount
}
