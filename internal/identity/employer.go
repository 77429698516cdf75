package identity

import "slices"

// MerchantEmployees lets an employer's user keep its roster (import,
// export, add, edit, offboard, link) and its allowance rule (SPEC B3).
// The employer's money (top-ups, bills) is MerchantFinance's.
const MerchantEmployees Permission = "merchant:employees"

// An employer's admin holds MerchantEmployees and may delegate it.
func init() {
	Delegable = append(Delegable, MerchantEmployees)
	for _, r := range []Role{MerchantAdmin, MerchantStaff} {
		if !slices.Contains(grants[r], MerchantEmployees) {
			grants[r] = append(grants[r], MerchantEmployees)
		}
	}
}
