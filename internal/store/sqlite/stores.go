package sqlite

import (
	"piao/internal/benefits"
	"piao/internal/booking"
	"piao/internal/governance"
	"piao/internal/idempotency"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/network"
	"piao/internal/payment/sandbox"
	"piao/internal/store"
)

// DB is one of piao's storage engines.
var _ store.Engine = (*DB)(nil)

// Name is the engine's kind, "sqlite".
func (db *DB) Name() string { return "sqlite" }

// Where is the database file.
func (db *DB) Where() string { return db.Path }

// Network returns the network store.
func (db *DB) Network() network.Store { return &networkStore{db} }

// Identity returns the identity store.
func (db *DB) Identity() identity.Store { return &identityStore{db} }

// Booking returns the booking store.
func (db *DB) Booking() booking.Store { return &bookingStore{DB: db} }

// Sandbox returns the sandbox payment gateway's store.
func (db *DB) Sandbox() sandbox.Store { return &sandboxStore{db} }

// Idempotency returns the store of idempotency keys.
func (db *DB) Idempotency() idempotency.Store { return &idempotencyStore{db} }

// Governance returns the governance store (lists, counts, transactions).
func (db *DB) Governance() governance.Store { return &governanceStore{db} }

// Benefits returns the value-added tickets store.
func (db *DB) Benefits() benefits.Store { return &benefitsStore{db} }

// Metro returns the metro clearing and settlement store.
func (db *DB) Metro() metro.Store { return &metroStore{db} }
