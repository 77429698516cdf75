package console

// The H5 shop's and bought tickets' messages (passengers' purchases,
// internal/sale), merged into messages.
var saleMessages = map[string]bilingual{
	"shop.title":                                {"购票", "Buy tickets"},
	"shop.purchase_title":                       {"购票订单", "Ticket purchase"},
	"shop.offers_h":                             {"在售次票", "On sale"},
	"shop.none":                                 {"暂无在售的次票。", "Nothing is on sale now."},
	"shop.mine_h":                               {"我的购票订单", "My purchases"},
	"shop.no_purchases":                         {"还没有购票订单。", "No purchases yet."},
	"shop.unit":                                 {"每份 %d 张，每张 %d 次", "%d ticket(s) a unit, %d ride(s) each"},
	"shop.left":                                 {"剩余 %d 张 · 已购 %d 张", "%d left · %d bought"},
	"shop.units":                                {"份数", "Units"},
	"shop.buy":                                  {"购买并支付", "Buy and pay"},
	"shop.sold_out":                             {"已达限购或已售罄", "Limit reached or sold out"},
	"shop.refund_rule":                          {"购买后 %d 天内可退未使用部分，手续费 %s%%", "Unused rides refundable for %d days, fee %s %%"},
	"shop.no_refund":                            {"购买后不可退款", "Not refundable"},
	"shop.valid_days":                           {"自购买起 %d 天内有效", "Valid %d days from purchase"},
	"shop.pay":                                  {"去支付", "Pay"},
	"shop.tickets":                              {"%d 张", "%d ticket(s)"},
	"shop.paid_note":                            {"支付成功，%d 张票券已放入卡券。", "Paid: %d ticket(s) are in your wallet."},
	"shop.waiting":                              {"正在确认支付或发放票券，页面会自动刷新。", "Confirming the payment or issuing the tickets; this page refreshes by itself."},
	"shop.to_wallet":                            {"查看卡券", "Go to the wallet"},
	"shop.to_shop":                              {"返回购票", "Back to the shop"},
	"shop.status.pending":                       {"待支付", "Waiting for payment"},
	"shop.status.paid":                          {"已支付", "Paid"},
	"shop.status.closed":                        {"已关闭", "Closed"},
	"shop.status.issuing":                       {"已支付，正在发放", "Paid, issuing"},
	"shop.status.returned":                      {"已关闭，款项已原路退回", "Closed, payment returned"},
	"shop.paid":                                 {"购入价 %s", "Bought for %s"},
	"shop.refund_now":                           {"现在退款可得 %s（手续费 %s）", "a refund now gives %s (fee %s)"},
	"shop.refund":                               {"退款", "Refund"},
	"shop.refund_confirm":                       {"退款后票券作废，确定退款？", "The ticket is void once refunded. Refund it?"},
	"wallet.done.refunded":                      {"退款已受理，款项将原路退回。", "Refunded: the money goes back to how you paid."},
	"shop.refund_reason.refund_not_holder":      {"已转赠他人，不可退款", "given away: not refundable"},
	"shop.refund_reason.refund_gifting":         {"转赠中，取消转赠后可退款", "being gifted: cancel the gift to refund it"},
	"shop.refund_reason.refund_revoked":         {"已退款或作废", "refunded or revoked"},
	"shop.refund_reason.refund_used_up":         {"已用完", "used up"},
	"shop.refund_reason.refund_expired":         {"已过期", "expired"},
	"shop.refund_reason.refund_not_allowed":     {"不可退款", "not refundable"},
	"shop.refund_reason.refund_deadline_passed": {"已过退款期限", "the refund deadline has passed"},
	"shop.refund_reason.refund_nothing":         {"扣除手续费后无可退金额", "nothing left after the fee"},
	"shop.refund_reason.ticket_not_found":       {"不可退款", "not refundable"},
	"nav.shop":                                  {"购票", "Buy tickets"},
}

func init() {
	for k, v := range saleMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
