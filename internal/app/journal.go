package app

import "piao/internal/ledger"

// Journal is the ledger's store, for tools that read the journal directly
// (the settlement benchmark's checks).
func (a *App) Journal() ledger.Store { return a.db.Ledger() }
