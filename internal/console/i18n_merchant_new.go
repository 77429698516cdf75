package console

// merchantNewMessages are the catalog entries of the merchant's
// new-campaign form (/merchant/campaigns/new), merged into messages.
var merchantNewMessages = map[string]bilingual{
	"mk.new.title":           {"新建营销活动", "New campaign"},
	"mk.new.link":            {"新建活动", "New campaign"},
	"mk.new.templates":       {"选择运营方提供的模板", "Choose a template the operator offers"},
	"mk.new.no_templates":    {"运营方目前没有提供模板。", "The operator offers no templates now."},
	"mk.new.price_h":         {"单价", "Price"},
	"mk.new.price":           {"每张（每次）%s", "%s per ticket (per ride)"},
	"mk.new.value_priced":    {"按金额预付", "Prepaid by value"},
	"mk.new.bounds":          {"条款限制", "Bounds on the terms"},
	"mk.new.no_bounds":       {"无", "None"},
	"mk.new.max_amount_off":  {"抵用不超过 %s", "at most %s off"},
	"mk.new.min_fixed_price": {"票价不低于 %s", "a fare of at least %s"},
	"mk.new.max_percent_off": {"折扣不超过 %d%%", "at most %d%% off"},
	"mk.new.max_cap":         {"须设上限，不超过 %s", "a cap of at most %s"},
	"mk.new.max_rides":       {"次数不超过 %d", "at most %d rides"},
	"mk.new.choose":          {"选用", "Choose"},
	"mk.new.chosen":          {"已选", "Chosen"},
	"mk.new.no_terms":        {"单次票无需填写优惠条款。", "A single-ride ticket has no terms to set."},
	"mk.new.weekdays":        {"适用星期（都不选即每天）", "Weekdays (none: every day)"},
	"mk.new.hour_from":       {"每日起始时间（可空）", "Daily from (optional)"},
	"mk.new.hour_to":         {"每日结束时间（可空）", "Daily until (optional)"},
	"mk.new.cover_image":     {"品牌封面图片（PNG 或 JPEG，不超过 %s，可空）", "Brand cover image (PNG or JPEG, up to %s, optional)"},
	"mk.new.campaign":        {"活动", "Campaign"},
	"mk.new.prepaid":         {"商户活动为预付活动：库存与金额来自购买，购买后方可提交审核。", "A merchant's campaign is prepaid: purchases add its stock and value; buy before you submit it."},
	"mk.new.create":          {"创建活动草稿", "Create the draft"},
	"mk.weekday.1":           {"周一", "Mon"},
	"mk.weekday.2":           {"周二", "Tue"},
	"mk.weekday.3":           {"周三", "Wed"},
	"mk.weekday.4":           {"周四", "Thu"},
	"mk.weekday.5":           {"周五", "Fri"},
	"mk.weekday.6":           {"周六", "Sat"},
	"mk.weekday.7":           {"周日", "Sun"},
}

func init() {
	for k, v := range merchantNewMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
