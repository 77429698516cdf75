package console

// merchantPurchaseMessages are the catalog entries of the merchant's
// purchases and refunds (/merchant/purchases, /merchant/refunds/…),
// merged into messages.
var merchantPurchaseMessages = map[string]bilingual{
	"nav.mpurchases":      {"采购", "Purchases"},
	"nav.mpurchases.desc": {"为预付活动购买票券或金额，经支付网关支付；活动结束后退还未用金额。", "Buy tickets or value for your prepaid campaigns through the payment gateway; refund what a finished campaign left unused."},

	"mp.title":                      {"采购", "Purchases"},
	"mp.intro":                      {"商户活动为预付活动：购买并支付后，库存与金额即归入活动。", "Your campaigns are prepaid: once a purchase is paid its tickets and value are the campaign's."},
	"mp.buy.h":                      {"新建采购", "New purchase"},
	"mp.buy.none":                   {"没有可采购的活动：先新建活动。", "No campaign to buy for: create a campaign first."},
	"mp.buy.hint":                   {"按张预付的活动填写张数，按金额预付的活动填写金额（元）。每笔最多 %d 张、%s。", "Give tickets for a campaign prepaid per ticket, a value (yuan) for one prepaid by value. At most %d tickets and %s a purchase."},
	"mp.buy":                        {"下单并去支付", "Order and pay"},
	"mp.campaign":                   {"活动", "Campaign"},
	"mp.tickets":                    {"张数", "Tickets"},
	"mp.value":                      {"金额（元）", "Value (yuan)"},
	"mp.unit":                       {"单价", "Unit price"},
	"mp.total":                      {"应付", "Amount"},
	"mp.at":                         {"时间", "When"},
	"mp.paid_at":                    {"支付时间", "Paid at"},
	"mp.closed":                     {"关闭原因", "Closed because"},
	"mp.refunded":                   {"已退回", "Returned"},
	"mp.per_ticket":                 {"每张 %s", "%s a ticket"},
	"mp.by_value":                   {"按金额预付", "prepaid by value"},
	"mp.list.h":                     {"采购记录", "Purchases"},
	"mp.list.none":                  {"还没有采购。", "No purchases yet."},
	"mp.status.pending":             {"待支付", "Awaiting payment"},
	"mp.status.paid":                {"已支付", "Paid"},
	"mp.status.closed":              {"已关闭", "Closed"},
	"mp.closed.expired":             {"超时未支付", "not paid in time"},
	"mp.closed.campaign_over":       {"支付时活动已结束，款项已全额退回", "paid after the campaign ended; the payment was returned in full"},
	"mp.closed.payment_unavailable": {"支付网关未能创建支付", "the gateway could not create the payment"},
	"mp.back":                       {"全部采购", "All purchases"},
	"mp.purchase.title":             {"采购单", "Purchase"},
	"mp.purchase.h":                 {"采购单 #%d", "Purchase #%d"},
	"mp.facts":                      {"采购内容", "What was ordered"},
	"mp.pay.h":                      {"支付", "Payment"},
	"mp.pay.until":                  {"请在 %s（北京时间）前完成支付。", "Pay before %s (Beijing time)."},
	"mp.pay":                        {"去支付", "Pay"},
	"mp.pay.wait":                   {"支付后本页会自动刷新，确认到账后库存即归入活动。", "After paying this page refreshes itself; once the payment is confirmed the stock is the campaign's."},
	"mp.refunds.h":                  {"已结束的活动：退还未用金额", "Finished campaigns: refund what is unused"},
	"mp.refunds.intro":              {"活动结束并过结算期后，可申请退还未用的预付金额（扣除手续费）。", "After a campaign ends and its settlement grace passes, ask for its unused prepaid value back (less the fee)."},
	"mp.refund.title":               {"退还未用金额", "Refund of unused value"},
	"mp.refund.preview":             {"可退金额（预览）", "What would be refunded"},
	"mp.refund.made":                {"已申请的退款", "The refund"},
	"mp.refund.unused":              {"未用金额", "Unused value"},
	"mp.refund.paid":                {"已付采购款", "Paid for purchases"},
	"mp.refund.fee":                 {"手续费", "Fee"},
	"mp.refund.amount":              {"退款金额", "Refund"},
	"mp.refund.window":              {"可申请时间（北京时间）", "When it may be asked for (Beijing time)"},
	"mp.refund.rule":                {"退款不超过已付采购款，按规则扣除手续费，原路退回各笔支付。", "A refund is at most what the purchases paid, less the fee by rule, returned to the payments it came from."},
	"mp.refund.ask":                 {"申请退款", "Ask for the refund"},
	"mp.refund.campaign":            {"查看活动", "See the campaign"},
	"mp.refund.pending":             {"退款处理中", "Being paid back"},
	"mp.refund.refunded":            {"已退款", "Refunded"},
	"mp.refund.not_over":            {"活动尚未结束，结束后方可退还未用金额。", "The campaign is not over: its unused value is refunded after it ends."},
	"mp.refund.not_open":            {"结算期尚未结束，退款稍后开放。", "The settlement grace has not passed: the refund opens later."},
	"mp.refund.purchase_pending":    {"该活动仍有待确认支付的采购，确认或关闭后方可退款。", "A purchase of the campaign still waits for its payment to settle: the refund opens once it is paid or closed."},
	"mp.refund.closed":              {"退款期限已过。", "The refund deadline has passed."},
	"mp.refund.not_now":             {"目前不能申请退款。", "The refund cannot be asked for now."},
}

func init() {
	for k, v := range merchantPurchaseMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
