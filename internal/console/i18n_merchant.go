package console

// merchantConsoleMessages are the catalog entries of the merchant console
// (/merchant/…, SPEC C2), merged into messages.
var merchantConsoleMessages = map[string]bilingual{
	"nav.merchant":        {"商户看板", "Dashboard"},
	"nav.merchant.desc":   {"库存、发放、领取、核销、转化与花费，按活动、按天与按车站。", "Stock, issued, claimed, used, conversion and spending, by campaign, day and station."},
	"nav.mcampaigns":      {"营销活动", "Campaigns"},
	"nav.mcampaigns.desc": {"本商户的活动：状态、库存、预算与花费、审核记录，提交审核。", "Your campaigns: status, stock, budget and spending, the review trail; submit for review."},

	"mk.title":            {"商户看板", "Merchant dashboard"},
	"mk.intro":            {"本商户全部活动的实时数据：每次打开页面时按活动计数器现算，不缓存。", "Live numbers of all your campaigns, computed from the campaign counters each time the page opens; nothing is cached."},
	"mk.total.h":          {"总览", "Totals"},
	"mk.stock":            {"库存（张）", "Stock (tickets)"},
	"mk.stock_left":       {"剩余库存（张）", "Stock left (tickets)"},
	"mk.value":            {"预付金额", "Prepaid value"},
	"mk.value_left":       {"剩余金额", "Value left"},
	"mk.issued":           {"已发放", "Issued"},
	"mk.claimed":          {"乘客领取", "Claimed"},
	"mk.claimed.hint":     {"“乘客领取”为乘客在 App 中领取或用兑换码兑换的张数；其余为按名单发放。", "“Claimed” counts tickets passengers took in the app or with a redemption code; the rest were issued to lists."},
	"mk.used":             {"已核销（张）", "Used (tickets)"},
	"mk.rides":            {"核销乘车次数", "Rides paid"},
	"mk.expired":          {"过期未用完", "Expired unused"},
	"mk.conversion":       {"转化率", "Conversion"},
	"mk.spent":            {"花费（乘客已优惠）", "Spent (saved by riders)"},
	"mk.campaigns.h":      {"按活动", "By campaign"},
	"mk.campaigns.none":   {"还没有活动。", "No campaigns yet."},
	"mk.total":            {"合计", "Total"},
	"mk.days.h":           {"按天（北京时间）", "By day (Beijing time)"},
	"mk.days.chart":       {"每天发放与核销乘车次数图", "Chart of tickets issued and rides paid per day"},
	"mk.day":              {"日期", "Day"},
	"mk.stations.h":       {"按进站车站", "By entry station"},
	"mk.stations.intro":   {"已结算地铁行程中使用本商户优惠的次数，按进站车站统计；每个活动统计其发放期内（最多最近 %d 天）的行程。", "Settled metro trips that used your benefits, by entry station; each campaign counts the trips of its own days (its last %d at most)."},
	"mk.stations.chart":   {"按进站车站的优惠使用次数图（前 %d 个车站）", "Chart of benefit uses by entry station (top %d stations)"},
	"mk.station":          {"车站", "Station"},
	"mk.export.h":         {"导出", "Exports"},
	"mk.export.campaigns": {"按活动导出 CSV", "Campaigns as CSV"},
	"mk.export.days":      {"按天导出 CSV", "Days as CSV"},
	"mk.no_metro":         {"本进程未运行地铁清分服务，无法按车站统计。", "Metro clearing does not run in this process: no figures by station."},

	"mk.campaigns.title":     {"营销活动", "Campaigns"},
	"mk.campaigns.intro":     {"本商户的活动。活动经运营方审核通过后开始发放。", "Your campaigns. A campaign issues tickets once the operator approves it."},
	"mk.col.uses":            {"核销次数", "Rides"},
	"mk.col.budget":          {"预算", "Budget"},
	"mk.col.spent":           {"花费", "Spent"},
	"mk.campaign.title":      {"营销活动", "Campaign"},
	"mk.back":                {"全部活动", "All campaigns"},
	"mk.submit.h":            {"提交审核", "Submit for review"},
	"mk.submit.intro":        {"提交后活动交由运营方审核；驳回的活动可修改后再次提交。", "Once submitted the operator reviews the campaign; a rejected campaign may be submitted again."},
	"mk.submit":              {"提交审核", "Submit for review"},
	"mk.events.h":            {"审核记录", "Review trail"},
	"bn.action.top_up":       {"购买入库", "Stock bought"},
	"bn.action.close_budget": {"结清预算", "Budget closed"},
	"mk.cover":               {"品牌封面", "Brand cover"},
	"mk.codes":               {"兑换码（已兑换 / 生成）", "Codes (redeemed / made)"},
}

func init() {
	for k, v := range merchantConsoleMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
