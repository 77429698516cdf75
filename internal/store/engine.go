// Package store names what every storage engine offers, so the wiring
// (internal/app, the simulator, the contract suites) opens one and uses it
// without knowing which: the engines themselves live in store/sqlite and
// store/postgres, and store/open picks one from the configuration.
package store

import (
	"context"
	"strings"

	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/booking"
	"piao/internal/distribution"
	"piao/internal/employer"
	"piao/internal/governance"
	"piao/internal/idempotency"
	"piao/internal/identity"
	"piao/internal/invoice"
	"piao/internal/ledger"
	"piao/internal/merchant"
	"piao/internal/metro"
	"piao/internal/network"
	"piao/internal/payment/sandbox"
	"piao/internal/purchase"
	"piao/internal/reconcile"
	"piao/internal/sale"
	"piao/internal/subsidy"
)

// Engine is one open database with every domain's store over it.
type Engine interface {
	// Name is the engine's kind: "sqlite" or "postgres".
	Name() string
	// Where is the database for display: its file, or its URL with the
	// password hidden.
	Where() string
	// Migrate applies every pending migration and returns the schema version.
	Migrate(ctx context.Context) (int64, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
	// Reseal seals every stored personal value (document and phone
	// numbers) with the current key of the keyring the engine was opened
	// with, in batches, calling progress after each with the table and the
	// values rewritten in it so far; it returns how many it rewrote. The
	// rotation of keys runs it (piao keys rotate).
	Reseal(ctx context.Context, progress func(table string, done int)) (int, error)

	// Network returns the network store.
	Network() network.Store
	// Identity returns the identity store.
	Identity() identity.Store
	// Booking returns the booking store.
	Booking() booking.Store
	// Sandbox returns the sandbox payment gateway's store.
	Sandbox() sandbox.Store
	// Idempotency returns the store of idempotency keys.
	Idempotency() idempotency.Store
	// Governance returns the governance store (lists, counts, transactions).
	Governance() governance.Store
	// Benefits returns the value-added tickets store.
	Benefits() benefits.Store
	// Metro returns the metro clearing and settlement store.
	Metro() metro.Store
	// Subsidy returns the store of subsidy schemes and enrolments.
	Subsidy() subsidy.Store
	// Audit returns the store of the append-only audit trail.
	Audit() audit.Store
	// Merchant returns the store of merchants, their papers and staff invitations.
	Merchant() merchant.Store
	// Purchases returns the store of merchants' batch purchases and refunds.
	Purchases() purchase.Store
	// Distribution returns the store of distribution lists and revocations.
	Distribution() distribution.Store
	// Ledger returns the double-entry journal's store.
	Ledger() ledger.Store
	// Reconcile returns the store of reconciliation runs and of the records they match.
	Reconcile() reconcile.Store
	// Sales returns the store of passengers' purchases of tickets on sale.
	Sales() sale.Store
	// Invoices returns the store of invoices.
	Invoices() invoice.Store
	// Employer returns the store of rosters, allowance rules, top-ups and bills.
	Employer() employer.Store
}

// HidePassword returns a database URL with its password replaced by ***,
// for logs and messages.
func HidePassword(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	creds := u[scheme+3 : at]
	if i := strings.IndexByte(creds, ':'); i >= 0 {
		return u[:scheme+3] + creds[:i] + ":***" + u[at:]
	}
	return u
}
