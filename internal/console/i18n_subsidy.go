package console

// subsidyMessages are the catalog entries of the subsidy pages (operator
// /subsidy, passenger /h5/subsidy), merged into messages.
var subsidyMessages = map[string]bilingual{
	"nav.subsidy":        {"补贴审核", "Subsidy review"},
	"nav.subsidy.desc":   {"特殊人群乘车补贴：待审核申请与续期、认证、驳回与撤销。", "Ride subsidies for special groups: applications and renewals to review, verify, reject, revoke."},
	"nav.h5subsidy":      {"乘车补贴", "Ride subsidies"},
	"nav.h5subsidy.desc": {"教师、高层次人才等特殊人群乘车补贴：申请、认证状态与续期。", "Subsidies for teachers, high-level talents and other groups: apply, see your status, renew."},

	"sub.grant.free":     {"免费乘车", "Rides free"},
	"sub.grant.discount": {"票价 %d%% 优惠", "%d %% off the fare"},
	"sub.cap":            {"每次最多优惠 %s", "at most %s a ride"},
	"sub.valid_months":   {"认证有效期 %d 个月", "verification lasts %d months"},
	"sub.renew_days":     {"到期前 %d 天起可续期", "renewal from %d days before expiry"},
	"sub.period":         {"%s 起至 %s", "from %s to %s"},

	"sub.state.applied":  {"待审核", "Awaiting review"},
	"sub.state.active":   {"已认证", "Verified"},
	"sub.state.rejected": {"已驳回", "Rejected"},
	"sub.state.expired":  {"已过期", "Expired"},
	"sub.state.revoked":  {"已撤销", "Revoked"},

	"sub.review.title": {"乘车补贴审核", "Subsidy review"},
	"sub.review.intro": {"核对申请人提供的证明材料编号后认证或驳回；认证后申请人在有效期内乘车自动享受补贴，撤销后此后的行程不再补贴。", "Check the evidence reference given, then verify or reject; a verified rider's trips are subsidised automatically for the period, and after a revocation later trips are not."},
	"sub.queue.h":      {"待审核", "Awaiting review"},
	"sub.queue.none":   {"没有待审核的申请。", "Nothing is waiting for review."},
	"sub.col.id":       {"编号", "No."},
	"sub.col.account":  {"账号", "Account"},
	"sub.col.scheme":   {"补贴方案", "Scheme"},
	"sub.col.kind":     {"类型", "Kind"},
	"sub.col.evidence": {"证明材料", "Evidence"},
	"sub.col.applied":  {"申请时间", "Filed"},
	"sub.col.decide":   {"审核", "Decision"},
	"sub.col.state":    {"状态", "State"},
	"sub.col.period":   {"补贴期限", "Period"},
	"sub.col.reason":   {"原因", "Reason"},
	"sub.col.group":    {"人群", "Group"},
	"sub.col.terms":    {"补贴", "Subsidy"},
	"sub.col.validity": {"有效期", "Validity"},
	"sub.col.campaign": {"活动", "Campaign"},

	"sub.kind.application": {"新申请", "Application"},
	"sub.kind.renewal":     {"续期", "Renewal"},
	"sub.verify":           {"认证通过", "Verify"},
	"sub.reject":           {"驳回", "Reject"},
	"sub.revoke":           {"撤销资格", "Revoke"},
	"sub.reason":           {"原因", "Reason"},
	"sub.done.verified":    {"已认证。", "Verified."},
	"sub.done.rejected":    {"已驳回。", "Rejected."},
	"sub.done.revoked":     {"已撤销。", "Revoked."},
	"sub.lookup.h":         {"按账号查询", "Look up an account"},
	"sub.lookup.go":        {"查询", "Look up"},
	"sub.lookup.none":      {"该账号没有补贴申请。", "This account has no enrolments."},
	"sub.schemes.h":        {"补贴方案", "Schemes"},
	"sub.schemes.none":     {"还没有补贴方案。", "No schemes yet."},
	"sub.schemes.hint":     {"方案经接口定义（POST /api/v1/subsidy-schemes），其自动优惠活动经审核通过后补贴生效。", "Schemes are defined through the API (POST /api/v1/subsidy-schemes); the subsidy applies once its automatic campaign is approved."},

	"sub.h5.title":           {"乘车补贴", "Ride subsidies"},
	"sub.h5.mine":            {"我的补贴", "My subsidies"},
	"sub.h5.none":            {"还没有申请过乘车补贴。", "You have not applied for a subsidy yet."},
	"sub.h5.renewal_pending": {"续期申请待审核。", "A renewal is waiting for review."},
	"sub.h5.renew_opens":     {"%s 起可申请续期。", "Renewal opens on %s."},
	"sub.h5.renew":           {"申请续期", "Renew"},
	"sub.h5.evidence":        {"证明材料编号", "Evidence reference"},
	"sub.h5.evidence_hint":   {"填写证书编号或已提交材料的编号（如教师资格证号），不要上传证件照片。", "Give a certificate number or the ID of a document already filed (such as a teaching certificate number); do not upload the document."},
	"sub.h5.apply_h":         {"申请补贴", "Apply"},
	"sub.h5.apply":           {"提交申请", "Apply"},
	"sub.h5.done.applied":    {"申请已提交，请等待审核。", "Applied: the operator will review it."},
	"sub.h5.done.renewal":    {"续期申请已提交，请等待审核。", "Renewal requested: the operator will review it."},
}

func init() {
	for k, v := range subsidyMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
