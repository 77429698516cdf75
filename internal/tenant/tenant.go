// Package tenant says whose rows a query may see (SPEC S2): the operator's
// staff see every merchant's, a merchant's users only their merchant's.
//
// A store method that reads or changes merchant-owned rows takes a Scope,
// so a caller cannot forget the tenant: it does not compile without one.
// The zero Scope sees no merchant's rows at all. The package is a leaf: it
// imports nothing of piao.
package tenant

import (
	"strconv"
	"strings"
)

// Scope is whose merchant-owned rows a caller may see and change.
type Scope struct {
	all      bool
	merchant int64
}

// All is the operator's scope: every merchant's rows, and the operator's own.
func All() Scope { return Scope{all: true} }

// Merchant is one merchant's scope: its rows and nobody else's. An ID
// below 1 sees nothing.
func Merchant(id int64) Scope { return Scope{merchant: max(id, 0)} }

// IsAll reports whether the scope sees every merchant (the operator).
func (s Scope) IsAll() bool { return s.all }

// MerchantID is the merchant of a merchant scope; 0 for the operator's
// scope and for the zero Scope.
func (s Scope) MerchantID() int64 {
	if s.all {
		return 0
	}
	return s.merchant
}

// Owner is how products and campaigns name their owner for a merchant
// scope ("merchant:7"); "" for the operator's scope, which sees every
// owner, and for the zero Scope.
func (s Scope) Owner() string {
	if s.all || s.merchant < 1 {
		return ""
	}
	return OwnerOf(s.merchant)
}

// OwnerOf is the owner string of a merchant's products and campaigns.
func OwnerOf(merchant int64) string { return "merchant:" + strconv.FormatInt(merchant, 10) }

// MerchantOf returns the merchant an owner string names, if it names one.
func MerchantOf(owner string) (int64, bool) {
	s, ok := strings.CutPrefix(owner, "merchant:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// Sees reports whether the scope may see a row owned by merchant (0 for a
// row no merchant owns, such as the operator's).
func (s Scope) Sees(merchant int64) bool {
	return s.all || (s.merchant > 0 && merchant == s.merchant)
}

// SeesOwner reports whether the scope may see a product or campaign owned
// by owner ("operator", "merchant:7", "account:3").
func (s Scope) SeesOwner(owner string) bool {
	if s.all {
		return true
	}
	m, ok := MerchantOf(owner)
	return ok && s.Sees(m)
}

// String names the scope for logs and errors.
func (s Scope) String() string {
	switch {
	case s.all:
		return "all"
	case s.merchant > 0:
		return OwnerOf(s.merchant)
	}
	return "none"
}
