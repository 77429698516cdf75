package console

// reconcileMessages are the catalog entries of the reconciliation pages
// (/reconciliations…), the operator's statements (/statements) and the
// merchant's own (/merchant/statements), merged into messages.
var reconcileMessages = map[string]bilingual{
	"nav.reconcile":        {"对账", "Reconciliation"},
	"nav.reconcile.desc":   {"按日核对渠道对账单、业务记录与总账，列出每一处差异；商户与用人单位的月度对账单。", "Each day's channel statement, piao's records and the ledger matched three ways with every difference; merchants' and employers' monthly statements."},
	"nav.mstatements":      {"月度对账单", "Statements"},
	"nav.mstatements.desc": {"本商户每月的期初余额、逐笔收支与期末余额，可导出。", "Your month on the books: opening balance, every posting, closing balance; exportable."},

	"rc.title":               {"对账", "Reconciliation"},
	"rc.intro":               {"按渠道流水号核对某一天（北京时间）的渠道对账单、业务记录与总账，金额精确到分；每次对账都保留记录。当日渠道手续费在首次对账时入账一次。", "A day (Beijing time) matched three ways — the channel's statement, piao's records, the ledger — by the channel's transaction IDs, to the fen; every run is kept. The day's channel fees are posted once, by its first run."},
	"rc.st.link":             {"商户月度对账单", "Merchants' monthly statements"},
	"rc.run.h":               {"对账", "Reconcile a day"},
	"rc.run.go":              {"开始对账", "Reconcile"},
	"rc.run.hint":            {"使用支付渠道（沙箱）当日的对账单。", "Uses the payment channel's (the sandbox's) statement of the day."},
	"rc.runs.h":              {"对账记录", "Runs"},
	"rc.none":                {"还没有对账记录。", "No reconciliation yet."},
	"rc.col.run":             {"编号", "Run"},
	"rc.col.day":             {"对账日", "Day"},
	"rc.col.at":              {"对账时间", "Run at"},
	"rc.col.source":          {"对账单来源", "Statement from"},
	"rc.col.payments":        {"支付（笔/金额）", "Payments (count / amount)"},
	"rc.col.refunds":         {"退款（笔/金额）", "Refunds (count / amount)"},
	"rc.col.fees":            {"手续费", "Fees"},
	"rc.col.records":         {"记录数", "Records"},
	"rc.col.matched":         {"一致", "Matched"},
	"rc.col.differences":     {"差异", "Differences"},
	"rc.col.kind":            {"差异类型", "Difference"},
	"rc.col.type":            {"类型", "Type"},
	"rc.col.sides":           {"涉及方", "Sides"},
	"rc.col.refs":            {"出处", "Where to look"},
	"rc.col.entry":           {"分录", "Entry"},
	"rc.records_hint":        {"记录数依次为：渠道对账单 · 业务记录 · 总账。", "Records: the statement · piao's records · the ledger."},
	"rc.records":             {"渠道对账单 %d，业务记录 %d，总账 %d", "statement %d, piao's records %d, ledger %d"},
	"rc.source.gateway":      {"支付渠道", "the channel"},
	"rc.source.file":         {"文件", "a file"},
	"rc.run.title":           {"对账记录", "Reconciliation run"},
	"rc.run.title_of":        {"%s 对账（第 %d 次）", "Reconciliation of %s (run %d)"},
	"rc.summary.h":           {"汇总", "Summary"},
	"rc.clean":               {"三方一致", "No difference"},
	"rc.differs":             {"%d 处差异", "%d differences"},
	"rc.fee_entry":           {"手续费分录 #%d", "fee entry #%d"},
	"rc.diff.h":              {"差异明细", "Differences"},
	"rc.diff.none":           {"三方完全一致，没有差异。", "The three sides agree: no difference."},
	"rc.side.statement":      {"渠道对账单", "Statement"},
	"rc.side.piao":           {"业务记录", "piao's records"},
	"rc.side.ledger":         {"总账", "Ledger"},
	"rc.sep":                 {"、", ", "},
	"rc.kind.missing":        {"缺失", "Missing"},
	"rc.kind.amount_differs": {"金额不符", "Amounts differ"},
	"rc.kind.duplicate":      {"重复", "Duplicate"},
	"rc.kind.fee_differs":    {"手续费不符", "Fees differ"},

	"rc.st.title":    {"月度对账单", "Monthly statements"},
	"rc.my.title":    {"月度对账单", "Monthly statement"},
	"rc.st.intro":    {"按科目列出月初余额、当月每笔记账及其后余额、月末余额；月末余额即总账在该时刻的余额。金额单位为元，时间为北京时间。", "Per account: the balance at the start of the month, every posting of the month with the balance after it, and the balance at its end — the ledger's balance at that instant. Amounts in yuan, times Beijing time."},
	"rc.st.choose":   {"选择", "Choose"},
	"rc.st.merchant": {"商户 / 用人单位", "Merchant / employer"},
	"rc.st.month":    {"月份", "Month"},
	"rc.st.show":     {"查看", "Show"},
	"rc.st.of":       {"%s 对账单", "Statement of %s"},
	"rc.st.period":   {"期间：%s 至 %s（不含）", "Period: %s to %s (exclusive)"},
	"rc.st.opening":  {"期初余额", "Opening balance"},
	"rc.st.closing":  {"本月合计 / 期末余额", "Month's totals / closing balance"},
	"rc.st.empty":    {"该月之前与该月内都没有记账。", "Nothing on the books up to the end of that month."},
}

func init() {
	for k, v := range reconcileMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
