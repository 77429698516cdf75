package console

// auditMessages are the catalog entries of the audit trail page (/audit)
// and the fee tables page (/booking/fees), merged into messages.
var auditMessages = map[string]bilingual{
	"nav.audit":      {"审计日志", "Audit log"},
	"nav.audit.desc": {"谁在何时修改了费率、票价、规则、名单、账号与活动，修改前后与原因。", "Who changed fees, fares, rules, lists, accounts and campaigns, when, before and after, and why."},
	"nav.fees":       {"退改费率", "Fee tables"},
	"nav.fees.desc":  {"修改退票与改签手续费率表，每次修改记入审计日志。", "Edit the refund and change fee tables; every change goes to the audit log."},

	"audit.reason": {"原因", "Reason"},

	"au.title":       {"审计日志", "Audit log"},
	"au.intro":       {"每一项重要修改都记录在此，只增不改：操作人、时间、修改前后与原因。时间为北京时间。", "Every change that matters is recorded here and never altered: who, when, before and after, and why. Times are Beijing time."},
	"au.filter.h":    {"筛选", "Filter"},
	"au.f.actor":     {"操作人（用户名或账号编号）", "Actor (username or account ID)"},
	"au.f.action":    {"操作（或其前缀）", "Action (or its prefix)"},
	"au.f.subject":   {"对象", "Subject"},
	"au.f.from":      {"起（含）", "From (inclusive)"},
	"au.f.until":     {"止（不含）", "Until (exclusive)"},
	"au.f.limit":     {"每页条数", "Per page"},
	"au.filter":      {"筛选", "Filter"},
	"au.clear":       {"清除筛选", "Clear filters"},
	"au.csv":         {"导出 CSV", "Export CSV"},
	"au.csv_hint":    {"按当前筛选导出，最多最新 %d 条。", "Exports the current filter, the newest %d entries at most."},
	"au.entries.h":   {"记录", "Entries"},
	"au.col.at":      {"时间", "When"},
	"au.col.actor":   {"操作人", "Who"},
	"au.col.action":  {"操作", "Action"},
	"au.col.subject": {"对象", "Subject"},
	"au.col.changes": {"修改内容", "What changed"},
	"au.col.field":   {"字段", "Field"},
	"au.col.before":  {"修改前", "Before"},
	"au.col.after":   {"修改后", "After"},
	"au.no_change":   {"无字段变化", "No field changed"},
	"au.json":        {"完整 JSON", "Full JSON"},
	"au.request":     {"请求编号", "Request ID"},
	"au.pager":       {"翻页", "Pages"},
	"au.first":       {"最新一页", "Newest page"},
	"au.next":        {"更早的记录", "Older entries"},
	"au.none":        {"没有符合条件的记录。", "No entries match."},

	"fees.title":      {"退改费率", "Fee tables"},
	"fees.intro":      {"退票与改签手续费按距开车时间分档收取。修改立即生效，并记入审计日志。", "Refund and change fees are charged by how long before departure. Changes apply at once and are recorded in the audit log."},
	"fees.refund":     {"退票费率表", "Refund fee table"},
	"fees.change":     {"改签费率表", "Change fee table"},
	"fees.tiers_hint": {"每档：距开车至少多少小时起适用，费率为票价的百分比。留空的行不计。", "Each tier: from how many hours before departure it applies, and its rate in percent of the fare. Empty rows are left out."},
	"fees.col.hours":  {"距开车（小时）", "Hours before departure"},
	"fees.col.rate":   {"费率（%）", "Rate (%)"},
	"fees.minimum":    {"最低收费（元）", "Minimum fee (yuan)"},
	"fees.round_to":   {"取整单位（元）", "Round to (yuan)"},
	"fees.submit":     {"保存费率表", "Save the table"},
	"fees.saved":      {"已保存，已记入审计日志。", "Saved and recorded in the audit log."},
}

func init() {
	for k, v := range auditMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
