package app

import "piao/internal/sale"

// SaleStore is the store of passengers' purchases, for what runs before
// Start builds Sales over it (the demo's shop is seeded through it on its
// own clock and in-process gateway).
func (a *App) SaleStore() sale.Store { return a.db.Sales() }
