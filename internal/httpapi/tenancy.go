package httpapi

import (
	"context"

	"piao/internal/tenant"
)

// scopeOf is whose merchant-owned rows the caller may see (SPEC S2): all
// for the operator's staff, one merchant's for its users, none otherwise.
func scopeOf(ctx context.Context) tenant.Scope { return PrincipalFrom(ctx).Tenant() }
