package app

import (
	"context"
	"time"

	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/reconcile"
)

// Reconciliation returns the reconciliation service over this database. The
// channel's statements are the sandbox gateway's, read from its store, so a
// command that opens the database (piao reconcile) reads the same
// statement the serving process's gateway serves.
func (a *App) Reconciliation() *reconcile.Service {
	return reconcile.New(reconcile.Config{
		Store: a.db.Reconcile(), Ledger: a.db.Ledger(), Statements: sandboxStatements{a.SandboxStore},
		Audit: a.Audit, Now: a.Now,
	})
}

// sandboxStatements reads the sandbox's daily statements from its store.
type sandboxStatements struct{ store sandbox.Store }

// Statement returns the day's statement.
func (s sandboxStatements) Statement(ctx context.Context, day time.Time) ([]payment.StatementLine, error) {
	return sandbox.StatementOf(ctx, s.store, day)
}
