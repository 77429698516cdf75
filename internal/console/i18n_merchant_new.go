package console

// merchantNewMessages are the catalog entries of the merchant's
// new-campaign form (/merchant/campaigns/new), merged into messages.
var merchantNewMessages = map[string]bilingual{
	"mc.new.title":           {"新建营销活动", "New campaign"},
	"mc.new.link":            {"新建活动", "New campaign"},
	"mc.new.templates":       {"选择运营方提供的模板", "Choose a template the operator offers"},
	"mc.new.no_templates":    {"运营方目前没有提供模板。", "The operator offers no templates now."},
	"mc.new.price_h":         {"单价", "Price"},
	"mc.new.price":           {"每张（每次）%s", "%s per ticket (per ride)"},
	"mc.new.value_priced":    {"按金额预付", "Prepaid by value"},
	"mc.new.bounds":          {"条款限制", "Bounds on the terms"},
	"mc.new.no_bounds":       {"无", "None"},
	"mc.new.max_amount_off":  {"抵用不超过 %s", "at most %s off"},
	"mc.new.min_fixed_price": {"票价不低于 %s", "a fare of at least %s"},
	"mc.new.max_percent_off": {"折扣不超过 %d%%", "at most %d%% off"},
	"mc.new.max_cap":         {"须设上限，不超过 %s", "a cap of at most %s"},
	"mc.new.max_rides":       {"次数不超过 %d", "at most %d rides"},
	"mc.new.choose":          {"选用", "Choose"},
	"mc.new.chosen":          {"已选", "Chosen"},
	"mc.new.no_terms":        {"单次票无需填写优惠条款。", "A single-ride ticket has no terms to set."},
	"mc.new.weekdays":        {"适用星期（都不选即每天）", "Weekdays (none: every day)"},
	"mc.new.hour_from":       {"每日起始时间（可空）", "Daily from (optional)"},
	"mc.new.hour_to":         {"每日结束时间（可空）", "Daily until (optional)"},
	"mc.new.cover_image":     {"品牌封面图片（PNG 或 JPEG，不超过 %s，可空）", "Brand cover image (PNG or JPEG, up to %s, optional)"},
	"mc.new.campaign":        {"活动", "Campaign"},
	"mc.new.prepaid":         {"商户活动为预付活动：库存与金额来自购买，购买后方可提交审核。", "A merchant's campaign is prepaid: purchases add its stock and value; buy before you submit it."},
	"mc.new.create":          {"创建活动草稿", "Create the draft"},
	"mc.weekday.1":           {"周一", "Mon"},
	"mc.weekday.2":           {"周二", "Tue"},
	"mc.weekday.3":           {"周三", "Wed"},
	"mc.weekday.4":           {"周四", "Thu"},
	"mc.weekday.5":           {"周五", "Fri"},
	"mc.weekday.6":           {"周六", "Sat"},
	"mc.weekday.7":           {"周日", "Sun"},
}

func init() {
	for k, v := range merchantNewMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
