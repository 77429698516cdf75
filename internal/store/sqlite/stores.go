package sqlite

import (
	"piao/internal/identity"
	"piao/internal/network"
)

// Network returns the network store.
func (db *DB) Network() network.Store { return &networkStore{db} }

// Identity returns the identity store.
func (db *DB) Identity() identity.Store { return &identityStore{db} }
