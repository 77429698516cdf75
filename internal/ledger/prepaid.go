package ledger

// EmployerKind is the kind of merchant organisation that is an employer
// (merchants.kind): its prepaid value is EmployerPrepaid.
const EmployerKind = "employer"

// PrepaidAccount is the account a merchant organisation's prepaid value is
// kept in, by the organisation's kind: EmployerPrepaid for an employer,
// MerchantPrepaid for any other. Every entry that buys or spends such value
// chooses its account here, and only here.
func PrepaidAccount(kind string) Code {
	if kind == EmployerKind {
		return EmployerPrepaid
	}
	return MerchantPrepaid
}
