package console

// ledgerMessages are the catalog entries of the ledger pages (/ledger…)
// and the merchant's balance (/merchant/balance), merged into messages.
var ledgerMessages = map[string]bilingual{
	"nav.ledger":        {"账务", "Ledger"},
	"nav.ledger.desc":   {"试算平衡表、分录、冲销与核销，以及账务检查。", "Trial balance, journal entries, reversals and write-offs, and the ledger's check."},
	"nav.mbalance":      {"账户余额", "Balance"},
	"nav.mbalance.desc": {"本商户在平台账上的预付余额与收支明细。", "Your prepaid balance on the operator's books and its entries."},

	"lg.title":          {"账务", "Ledger"},
	"lg.intro":          {"复式记账：每笔资金业务记一笔借贷相等的分录，分录不可修改，只能冲销。金额单位为元。", "Double entry: every money event posts one entry whose debits equal its credits; entries are never changed, only reversed. Amounts in yuan."},
	"lg.entries.link":   {"分录查询与导出", "Entries and exports"},
	"lg.wo.link":        {"核销", "Write off"},
	"lg.trial.h":        {"试算平衡表", "Trial balance"},
	"lg.balanced":       {"借贷平衡", "Balanced"},
	"lg.unbalanced":     {"借贷不平：相差 %d 分", "Out of balance by %d fen"},
	"lg.col.account":    {"科目", "Account"},
	"lg.col.kind":       {"类别", "Type"},
	"lg.col.debit":      {"借方", "Debit"},
	"lg.col.credit":     {"贷方", "Credit"},
	"lg.col.net":        {"余额", "Balance"},
	"lg.col.party":      {"往来单位", "Party"},
	"lg.col.ekind":      {"业务类型", "Kind"},
	"lg.col.ref":        {"业务单据", "Business record"},
	"lg.col.key":        {"业务事件", "Business event"},
	"lg.col.external":   {"渠道流水号", "Channel transaction"},
	"lg.col.at":         {"业务时间", "When"},
	"lg.col.posted":     {"记账时间", "Posted"},
	"lg.col.total":      {"金额", "Amount"},
	"lg.col.memo":       {"摘要", "Memo"},
	"lg.col.postings":   {"分录明细", "Postings"},
	"lg.col.check":      {"检查项", "Check"},
	"lg.col.subject":    {"对象", "Subject"},
	"lg.col.detail":     {"说明", "Detail"},
	"lg.by_party":       {"（按单位核算）", "(by party)"},
	"lg.total":          {"合计", "Total"},
	"lg.kind.asset":     {"资产", "Asset"},
	"lg.kind.liability": {"负债", "Liability"},
	"lg.kind.equity":    {"权益", "Equity"},
	"lg.kind.revenue":   {"收入", "Revenue"},
	"lg.kind.expense":   {"费用", "Expense"},
	"lg.check.h":        {"账务检查", "Ledger check"},
	"lg.check.sound":    {"未发现问题：每笔分录借贷平衡，余额等于明细之和，每笔业务都有分录。", "No problem found: every entry balances, every balance equals its postings, every business event has its entry."},
	"lg.check.problems": {"发现 %d 个问题：", "%d problems found:"},

	"lg.ek.payment":    {"购票付款", "Ticket payment"},
	"lg.ek.purchase":   {"采购", "Purchase"},
	"lg.ek.top_up":     {"充值", "Top-up"},
	"lg.ek.refund":     {"退款", "Refund"},
	"lg.ek.redemption": {"核销结算", "Redemption"},
	"lg.ek.subsidy":    {"补贴到账", "Subsidy received"},
	"lg.ek.fee":        {"渠道手续费", "Channel fee"},
	"lg.ek.write_off":  {"核销损失", "Write-off"},
	"lg.ek.bill":       {"企业账单", "Employer bill"},
	"lg.ek.reversal":   {"冲销", "Reversal"},

	"lg.entries.title": {"分录", "Journal entries"},
	"lg.entries.h":     {"分录（按时间倒序）", "Entries, newest first"},
	"lg.filter.h":      {"筛选", "Filter"},
	"lg.any":           {"全部", "Any"},
	"lg.f.from":        {"开始日期", "From"},
	"lg.f.to":          {"结束日期（含）", "To (included)"},
	"lg.f.limit":       {"每页条数", "Per page"},
	"lg.filter":        {"筛选", "Filter"},
	"lg.clear":         {"清除筛选", "Clear"},
	"lg.csv":           {"导出 CSV", "Export CSV"},
	"lg.xlsx":          {"导出 Excel（XLSX）", "Export Excel (XLSX)"},
	"lg.export_hint":   {"按当前筛选导出全部分录，每行一条明细；最多 %d 条分录。", "Exports every entry the filter selects, one row per posting; at most %d entries."},
	"lg.pager":         {"翻页", "Pages"},
	"lg.first":         {"第一页", "First page"},
	"lg.next":          {"下一页", "Next page"},
	"lg.none":          {"没有符合条件的分录。", "No entry matches."},
	"lg.reverses":      {"冲销 #%d", "reverses #%d"},

	"lg.entry.title":       {"分录", "Journal entry"},
	"lg.entry.h":           {"分录 #%d", "Entry #%d"},
	"lg.entry.facts":       {"业务", "Event"},
	"lg.entry.same_ref":    {"同一单据的全部分录", "All entries of this record"},
	"lg.entry.reverses":    {"冲销的分录", "Reverses"},
	"lg.entry.reversed_by": {"已被冲销", "Reversed by"},
	"lg.reverse.h":         {"冲销", "Reverse"},
	"lg.reverse.hint":      {"以相反方向记一笔新分录抵消本分录，原分录保留。每条分录只能冲销一次，冲销分录不能再冲销。操作记入审计日志。", "Posts a new entry with every posting on the other side; this entry stays. An entry is reversed once; a reversal is never reversed. Recorded in the audit log."},
	"lg.reason":            {"原因", "Reason"},
	"lg.reverse":           {"冲销分录", "Reverse the entry"},

	"lg.wo.title":      {"核销", "Write-off"},
	"lg.wo.intro":      {"放弃收回的款项：借记核销损失，贷记应收或渠道待清算科目，不超过其余额。操作记入审计日志。", "Money given up on: debit write-offs, credit a receivable or gateway clearing, at most its balance. Recorded in the audit log."},
	"lg.wo.h":          {"新建核销", "New write-off"},
	"lg.wo.party_hint": {"应收补贴款、应收企业款须填写单位（如 subsidy:students、merchant:9），其他科目留空。", "Subsidies and employers receivable need a party (subsidy:students, merchant:9); leave it empty for the others."},
	"lg.wo.amount":     {"金额（元）", "Amount (yuan)"},
	"lg.wo.submit":     {"核销", "Write off"},

	"lg.mb.title":      {"账户余额", "Balance"},
	"lg.mb.intro":      {"本商户在平台账上的余额与分录明细（仅本商户的部分）。金额单位为元，时间为北京时间。", "Your balances on the operator's books and your lines of its entries. Amounts in yuan, times Beijing time."},
	"lg.mb.balances":   {"余额", "Balances"},
	"lg.mb.net":        {"余额", "Balance"},
	"lg.mb.no_balance": {"账上还没有本商户的余额。", "Nothing on the books for you yet."},
	"lg.mb.entries":    {"明细", "Entries"},
}

func init() {
	for k, v := range ledgerMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
