package console

// documentMessages are the catalog entries of the passenger's documents
// page (/h5/documents), merged into messages.
var documentMessages = map[string]bilingual{
	"nav.h5documents":      {"我的证件", "My documents"},
	"nav.h5documents.desc": {"常用乘车人证件、本人证件核验，以及同意其他账号为本人订票。", "Documents used on your account, verifying your own, and approving other accounts to book for you."},

	"doc.title": {"我的证件", "My documents"},
	"doc.intro": {"每位乘客每天被取消订单的次数有上限（跨所有账号计算）。核验本人证件后，只有本账号和您同意的账号能为您订票，其他账号的取消不再计入您的次数，也不会使您被限制购票。",
		"Each passenger may have only so many cancelled bookings a day, counted across all accounts. Once you verify your own document, only this account and the accounts you approve can book for you, and other accounts' cancels no longer count against you or restrict your booking."},
	"doc.list_h":                {"乘车人证件", "Passenger documents"},
	"doc.list_none":             {"本账号还没有为任何乘客订过票。", "This account has not booked for anyone yet."},
	"doc.standing.unverified":   {"未核验：任何账号均可为其订票，各账号的取消都会计入", "Not verified: any account can book it, and every account's cancels count"},
	"doc.standing.holder":       {"本人证件（已核验）", "Your own document (verified)"},
	"doc.standing.approved":     {"持有人已同意本账号为其订票", "The holder approved this account"},
	"doc.standing.not_approved": {"持有人已核验证件，未同意本账号为其订票", "The holder verified it and has not approved this account"},
	"doc.claims_h":              {"我的核验申请", "My verification claims"},
	"doc.claims_none":           {"还没有核验申请。", "No claims yet."},
	"doc.claim.pending":         {"待审核", "Awaiting review"},
	"doc.claim.verified":        {"已核验", "Verified"},
	"doc.claim.rejected":        {"已驳回", "Rejected"},
	"doc.claim.revoked":         {"已撤销", "Revoked"},
	"doc.claim_h":               {"核验本人证件", "Verify your own document"},
	"doc.claim_hint":            {"请填写本人证件；工作人员核对后通过。一个证件只能由一个账号核验。", "Give your own document; staff check it before verifying. One document can be verified on one account only."},
	"doc.name":                  {"姓名", "Name"},
	"doc.number":                {"证件号码", "Document number"},
	"doc.claim":                 {"提交核验申请", "Submit the claim"},
	"doc.approve_h":             {"同意其他账号为本人订票", "Approve another account to book for you"},
	"doc.approve_hint":          {"请对方在其账号的「我的证件」页查看账号编号（本账号编号为 %d）。", "The other person finds their account number on their My documents page (this account's is %d)."},
	"doc.account":               {"账号编号", "Account number"},
	"doc.approve":               {"同意", "Approve"},
	"doc.withdraw":              {"撤销同意", "Withdraw approval"},
	"doc.done.claimed":          {"核验申请已提交，请等待审核。", "Claim submitted: staff will review it."},
	"doc.done.approved":         {"已同意该账号为您订票。", "That account may now book for you."},
	"doc.done.withdrawn":        {"已撤销对该账号的同意。", "Approval withdrawn."},
}

func init() {
	for k, v := range documentMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
