package console

// merchantDistributionMessages are the catalog entries of the merchant's
// distribution pages (/merchant/distribution/…), merged into messages.
var merchantDistributionMessages = map[string]bilingual{
	"nav.mdistribution":      {"发放", "Distribution"},
	"nav.mdistribution.desc": {"按名单发放、兑换码、领取链接与二维码海报，撤回未送达的票券。", "Issue to lists, make codes, claim links and QR posters; revoke what was not delivered."},

	"md.title":           {"发放", "Distribution"},
	"md.intro":           {"把活动的票券发给顾客：上传名单直接发放、生成兑换码，或分享领取链接与二维码海报。", "Give your campaigns' tickets to customers: upload a list to issue directly, make redemption codes, or share the claim link and its QR poster."},
	"md.campaign":        {"活动", "Campaign"},
	"md.at":              {"时间", "When"},
	"md.upload.h":        {"上传名单", "Upload a list"},
	"md.upload.file":     {"名单文件（CSV）", "List file (CSV)"},
	"md.upload.hint":     {"CSV（UTF-8）：首行为表头 phone 或 account，可加 note 列；最多 %d 行。有错误的名单整份退回，并按行、列列出错误。", "CSV (UTF-8): a header of phone or account, optionally note; at most %d lines. A list with errors is refused whole, its errors listed by line and column."},
	"md.upload":          {"上传并发放", "Upload and issue"},
	"md.upload.none":     {"没有开放“按名单发放”渠道的活动。", "No campaign issues to lists (the direct channel)."},
	"md.more_errors":     {"另有 %d 处错误未列出。", "%d more errors not shown."},
	"md.lists.h":         {"名单", "Lists"},
	"md.lists.none":      {"还没有上传名单。", "No lists uploaded yet."},
	"md.kind":            {"名单类型", "Kind"},
	"md.kind.phone":      {"手机号", "Phone numbers"},
	"md.kind.account":    {"账号", "Accounts"},
	"md.entries":         {"行数", "Lines"},
	"md.issued":          {"已发放", "Issued"},
	"md.refused":         {"未发放", "Refused"},
	"md.revoked":         {"已撤回", "Revoked"},
	"md.claim.h":         {"领取链接", "Claim link"},
	"md.poster.open":     {"打开二维码海报（可打印）", "Open the QR poster (printable)"},
	"md.codes.voided_h":  {"已作废", "Voided"},
	"md.codes.revoke_h":  {"作废未兑换的码", "Void unredeemed codes"},
	"md.codes.revoke":    {"作废", "Void"},
	"md.codes.voided":    {"已作废 %d 个未兑换的码。", "%d unredeemed codes voided."},
	"md.no_channel":      {"该活动没有可由商户操作的发放渠道。", "This campaign has no channel you distribute through."},
	"md.back":            {"发放", "Distribution"},
	"md.list.title":      {"名单", "List"},
	"md.list.h":          {"名单 #%d", "List #%d"},
	"md.list.facts":      {"名单结果", "Outcome"},
	"md.lines.h":         {"逐行结果", "Line by line"},
	"md.line":            {"行", "Line"},
	"md.recipient":       {"接收人", "Recipient"},
	"md.note":            {"备注", "Note"},
	"md.outcome":         {"结果", "Outcome"},
	"md.outcome.issued":  {"已发放", "Issued"},
	"md.outcome.refused": {"未发放", "Refused"},
	"md.outcome.revoked": {"已撤回", "Revoked"},
	"md.revoke.hint":     {"只撤回尚未送达的票券：已使用、已转赠或已过期的保持不变。", "Only tickets not delivered are taken back: used, gifted or expired ones stay."},
	"md.revoke.list":     {"撤回整份名单", "Revoke the list"},
	"md.revoke.line":     {"撤回", "Revoke"},
	"md.revocation":      {"撤回 %d 张；已使用 %d、已转赠 %d、已过期 %d、此前已撤回 %d、未发放 %d。", "%d revoked; %d used, %d gifted, %d expired, %d revoked before, %d never issued."},
	"md.poster.title":    {"领取二维码海报", "Claim QR poster"},
	"md.poster.qr":       {"领取链接的二维码", "QR code of the claim link"},
	"md.poster.scan":     {"扫码登录后领取", "Scan, log in and claim"},
	"md.poster.print":    {"用浏览器的打印功能打印本页。", "Print this page with the browser's print command."},
}

func init() {
	for k, v := range merchantDistributionMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
