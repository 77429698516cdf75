package console

// employerMessages are the catalog entries of the employer's pages
// (/merchant/employees, /merchant/allowances, /merchant/top-ups,
// /merchant/bills) and the invitation page passengers accept, merged into
// messages.
var employerMessages = map[string]bilingual{
	"em.kind":          {"机构类型", "Organisation"},
	"em.kind.merchant": {"商户（为顾客购买票券）", "Merchant (buys tickets for its customers)"},
	"em.kind.employer": {"企业（为员工发放通勤补贴）", "Employer (travel allowances for its employees)"},
}

func init() {
	for k, v := range employerMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
