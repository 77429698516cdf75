package console_test

import (
	"testing"

	"piao/internal/app/apptest"
)

// The employer pages' parameters in the console's tenancy matrix: the
// fixture merchant's employee and bill (made once, with its rule and a
// top-up).
func init() {
	employee := func(t *testing.T, f *apptest.MerchantFixture) string { return itoa(f.Employer(t).Employee.ID) }
	for _, p := range []string{"/merchant/employees/{id}/offboard", "/merchant/employees/{id}/link", "/merchant/employees/{id}/invite"} {
		consoleParams[consoleParam{p, "id"}] = employee
	}
	// Running the month needs the rule, made with the fixture's rows.
	consoleForms["POST /merchant/allowances/run"] = func(t *testing.T, f *apptest.MerchantFixture) consoleForm {
		f.Employer(t)
		return consoleForm{}
	}
	consoleParams[consoleParam{"/merchant/bills/{id}/pay", "id"}] = func(t *testing.T, f *apptest.MerchantFixture) string { return itoa(f.Employer(t).Bill.ID) }
}
