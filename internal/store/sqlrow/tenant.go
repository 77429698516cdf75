package sqlrow

import "piao/internal/tenant"

// SeenBy are the two arguments of the owner filter both engines put on
// merchant-owned rows, `(all OR owner = ?)`: whether the scope sees every
// owner, and the one owner it sees otherwise ("" for the zero Scope, which
// no row has, so it sees nothing).
func SeenBy(s tenant.Scope) (all bool, owner string) { return s.IsAll(), s.Owner() }
