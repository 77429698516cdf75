package console

// distributeMessages are the catalog entries of a campaign's claim page
// (/h5/campaigns/{id}, the page a claim link or poster opens), merged into
// messages.
var distributeMessages = map[string]bilingual{
	"claim.title":       {"领取优惠", "Claim a ticket"},
	"claim.left":        {"剩余 %d 张", "%d left"},
	"claim.period":      {"领取时间 %s 至 %s", "Claim from %s until %s"},
	"claim.button":      {"立即领取", "Claim now"},
	"claim.login":       {"登录后领取", "Log in to claim"},
	"claim.login_hint":  {"登录后回到本页即可领取，领到的票券放在「我的卡券」中。", "After logging in you come back here to claim; tickets go to My tickets."},
	"claim.passengers":  {"仅乘客账号可以领取。", "Only passenger accounts can claim."},
	"claim.not_started": {"活动尚未开始，开始后即可领取。", "The campaign has not started yet; come back when it starts."},
	"claim.paused":      {"活动已暂停。", "The campaign is paused."},
	"claim.over":        {"活动已结束。", "The campaign is over."},
	"claim.sold_out":    {"已领完。", "All tickets have been given out."},
	"claim.per_user":    {"每人限领 %d 张", "At most %d per person"},
	"claim.wallet":      {"查看我的卡券", "See my tickets"},
}

func init() {
	for k, v := range distributeMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
