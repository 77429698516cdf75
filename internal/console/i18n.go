package console

import (
	"fmt"
	"net/http"

	"piao/internal/fault"
)

// lang is a console language: zh (Simplified Chinese, the default) or en.
type lang string

const (
	zh lang = "zh"
	en lang = "en"
)

// langCookie remembers the language chosen with GET /lang.
const langCookie = "piao_lang"

// langOf returns the language chosen by the request's cookie, zh by default.
func langOf(r *http.Request) lang {
	if c, err := r.Cookie(langCookie); err == nil && lang(c.Value) == en {
		return en
	}
	return zh
}

// Tag is the BCP 47 tag for the lang attribute.
func (l lang) Tag() string {
	if l == en {
		return "en"
	}
	return "zh-CN"
}

// Other is the language not in use, for bilingual messages and the switch.
func (l lang) Other() lang {
	if l == en {
		return zh
	}
	return en
}

// T returns the catalog text of key; a missing key shows as ⟦key⟧ so tests catch it.
func (l lang) T(key string) string {
	m, ok := messages[key]
	if !ok {
		return "⟦" + key + "⟧"
	}
	if l == en {
		return m.EN
	}
	return m.ZH
}

// Tf formats the catalog text of key with args.
func (l lang) Tf(key string, args ...any) string { return fmt.Sprintf(l.T(key), args...) }

// Pick returns the text of b in l.
func (l lang) Pick(b bilingual) string {
	if l == en {
		return b.EN
	}
	return b.ZH
}

// bilingual is a message in both languages; errors are shown in both.
type bilingual struct{ ZH, EN string }

// msg returns the catalog entry of key as a bilingual message.
func msg(key string) bilingual {
	if m, ok := messages[key]; ok {
		return m
	}
	return bilingual{"⟦" + key + "⟧", "⟦" + key + "⟧"}
}

// faultMsg returns the bilingual message of a domain error.
func faultMsg(err error) bilingual {
	fe := fault.As(err)
	return bilingual{fe.ZH, fe.EN}
}

// messages is the console's one message catalog.
var messages = map[string]bilingual{
	"product":      {"票 piao", "票 piao"},
	"product.tag":  {"铁路互联网售票平台", "Rail ticketing platform"},
	"skip":         {"跳到主要内容", "Skip to main content"},
	"lang.switch":  {"语言", "Language"},
	"nav.label":    {"主导航", "Main navigation"},
	"nav.home":     {"工作台", "Workbench"},
	"nav.network":  {"线网", "Network"},
	"user.label":   {"当前用户", "Signed in as"},
	"logout":       {"退出登录", "Log out"},
	"footer":       {"piao 版本 %s", "piao version %s"},
	"request.id":   {"请求编号", "Request ID"},
	"back.home":    {"返回工作台", "Back to the workbench"},
	"none":         {"—", "—"},
	"km":           {"公里", "km"},
	"duration.hm":  {"%d 小时 %d 分", "%d h %d min"},
	"duration.m":   {"%d 分", "%d min"},
	"title.error":  {"出错了", "Something went wrong"},
	"title.denied": {"无权访问", "Access denied"},

	"role.operator_admin":    {"运营管理员", "Operator admin"},
	"role.operator_reviewer": {"运营审核员", "Operator reviewer"},
	"role.operator_auditor":  {"运营审计员", "Operator auditor"},
	"role.merchant_admin":    {"商户管理员", "Merchant admin"},
	"role.merchant_staff":    {"商户员工", "Merchant staff"},
	"role.passenger":         {"旅客", "Passenger"},
	"role.partner":           {"合作平台", "Partner platform"},
	"role.gate":              {"闸机", "Station gate"},

	"login.title":      {"登录", "Log in"},
	"login.intro":      {"请使用您的账号登录控制台。", "Log in to the console with your account."},
	"login.username":   {"用户名或手机号", "Username or phone"},
	"login.password":   {"密码", "Password"},
	"login.submit":     {"登录", "Log in"},
	"login.required":   {"请先登录。", "Please log in first."},
	"csrf.invalid":     {"表单已失效或并非来自本站，请刷新页面后重试。", "The form has expired or did not come from this site; reload the page and try again."},
	"cross.origin":     {"拒绝跨站请求。", "Cross-site requests are refused."},
	"denied.text":      {"您的角色（%s）没有访问此页面的权限。", "Your role (%s) may not open this page."},
	"internal.error":   {"服务器内部错误，请稍后重试。", "Internal error; please try again later."},
	"not.found":        {"页面不存在。", "No such page."},
	"home.title":       {"工作台", "Workbench"},
	"home.welcome":     {"欢迎，%s", "Welcome, %s"},
	"home.role":        {"您的角色：%s", "Your role: %s"},
	"home.sections":    {"可用功能", "What you can do"},
	"nav.network.desc": {"查询车站、线路与车次时刻表。", "Look up stations, lines and train timetables."},
	"network.title":    {"线网", "Network"},
	"stations.title":   {"车站查询", "Find a station"},
	"stations.q":       {"车站名称、拼音或电报码", "Station name, pinyin or telecode"},
	"stations.submit":  {"查询", "Search"},
	"stations.none":    {"没有找到匹配“%s”的车站。", "No station matches “%s”."},
	"stations.count":   {"找到 %d 个车站", "%d stations found"},
	"col.code":         {"电报码", "Telecode"},
	"col.name_zh":      {"中文名", "Chinese name"},
	"col.name_en":      {"英文名", "English name"},
	"col.pinyin":       {"拼音", "Pinyin"},
	"col.city":         {"城市", "City"},
	"lines.title":      {"线路", "Lines"},
	"lines.none":       {"尚无线路数据。", "There are no lines yet."},
	"col.line":         {"线路", "Line"},
	"col.feed":         {"数据集", "Feed"},
	"col.type":         {"类型", "Type"},
	"route.1":          {"地铁", "Metro"},
	"route.2":          {"铁路", "Rail"},
	"route.3":          {"公交", "Bus"},
	"route.other":      {"其他", "Other"},
	"tt.title":         {"车次时刻表", "Train timetable"},
	"tt.number":        {"车次", "Train number"},
	"tt.date":          {"乘车日期", "Date"},
	"tt.submit":        {"查询时刻表", "Show timetable"},
	"tt.caption":       {"%s 次 %s 时刻表", "Timetable of %s on %s"},
	"tt.duration":      {"全程历时", "Total journey time"},
	"tt.distance":      {"全程里程", "Total distance"},
	"col.seq":          {"站序", "No."},
	"col.station":      {"车站", "Station"},
	"col.arrive":       {"到达", "Arrives"},
	"col.depart":       {"出发", "Departs"},
	"col.stop":         {"停留", "Stop"},
	"col.km":           {"里程（公里）", "Distance (km)"},
	"tt.next_day":      {"次日或之后的天数", "days after the service date"},
	"tt.stop_min":      {"%d 分", "%d min"},
	"tt.origin":        {"始发", "Origin"},
	"tt.terminus":      {"终到", "Terminus"},
	"line.back":        {"返回线网", "Back to the network"},
	"line.stations":    {"车站（%d 个）", "Stations (%d)"},
	"line.no_order":    {"铁路线路的车站顺序由各车次的停站决定，请用车次时刻表查询。", "A railway line's station order comes from each train's calls; look up a train timetable instead."},
	"col.distance":     {"距起点（公里）", "From the first station (km)"},

	"nav.h5":          {"车票", "Tickets"},
	"nav.h5.desc":     {"查询余票，为自己和同行的人购票。", "Find trains with seats left and book tickets."},
	"nav.orders":      {"我的订单", "My orders"},
	"nav.orders.desc": {"支付、取消订单，查看电子客票，退票。", "Pay or cancel orders, see e-tickets, refund."},

	"h5.title":        {"车票", "Tickets"},
	"h5.heading":      {"车票查询", "Find tickets"},
	"h5.results":      {"余票查询结果", "Trains found"},
	"h5.from":         {"出发站", "From"},
	"h5.to":           {"到达站", "To"},
	"h5.date":         {"出发日期", "Date"},
	"h5.submit":       {"查询", "Search"},
	"h5.station_hint": {"车站可填电报码、站名或拼音，如 NCG、南昌、nanchang。", "Name stations by telecode, name or pinyin: NCG, 南昌, nanchang."},
	"h5.login_hint":   {"登录后即可购票。", "Log in to book tickets."},
	"h5.login":        {"登录", "Log in"},
	"h5.results_for":  {"%s → %s，%s", "%s → %s, %s"},
	"h5.count":        {"共 %d 趟列车", "%d trains"},
	"h5.none":         {"当日没有符合条件的车次。", "No train runs between those stations that day."},
	"h5.duration":     {"历时 %s", "%s"},
	"h5.seats":        {"%s 次席位与票价", "Seats and fares of %s"},
	"h5.col.kind":     {"席别", "Class"},
	"h5.col.left":     {"余票", "Left"},
	"h5.col.fare":     {"票价", "Fare"},
	"h5.col.book":     {"预订", "Book"},
	"h5.sold_out":     {"无票", "Sold out"},
	"h5.book":         {"预订", "Book"},
	"h5.book_label":   {"预订 %s %s", "Book %s %s"},

	"rec.title":           {"按需推荐", "Recommended trains"},
	"rec.heading":         {"按需推荐", "Recommend"},
	"rec.intro":           {"告诉我们您最看重什么，按此排序并说明理由。", "Say what matters most: trains are ranked by it, with the reason."},
	"rec.by":              {"最看重", "What matters most"},
	"rec.then":            {"其次", "Then"},
	"rec.none":            {"—", "—"},
	"rec.factor.arrival":  {"到达时间早", "Arrival time"},
	"rec.factor.duration": {"历时短", "Journey time"},
	"rec.factor.price":    {"票价低", "Price"},
	"rec.factor.berth":    {"有想要的铺位", "Berth"},
	"rec.berth":           {"想要的铺位", "Berth wanted"},
	"rec.class":           {"席别", "Class"},
	"rec.any":             {"不限", "Any"},
	"rec.arrive_by":       {"最晚到达（可不填）", "Arrive by (optional)"},
	"rec.submit":          {"按需推荐", "Recommend"},
	"rec.all":             {"查看全部车次", "All trains"},
	"rec.count":           {"按您的需求排序的 %d 趟列车", "%d trains, ranked by what matters to you"},
	"rec.sold_out_all":    {"所选席别都已无票。", "Nothing is left in the classes asked for."},
	"rec.rank":            {"第 %d", "#%d"},
	"rec.reason":          {"推荐理由：", "Why:"},
	"rec.left":            {"余 %d", "%d left"},

	"class.hard_sleeper": {"硬卧", "Hard sleeper"},
	"class.soft_sleeper": {"软卧", "Soft sleeper"},
	"class.second":       {"二等座", "Second class"},
	"class.first":        {"一等座", "First class"},
	"class.business":     {"商务座", "Business class"},
	"berth.lower":        {"下铺", "lower"},
	"berth.middle":       {"中铺", "middle"},
	"berth.upper":        {"上铺", "upper"},
	"berth.any":          {"不限铺位", "any berth"},
	"kind.berth":         {"%s %s", "%s, %s"},
	"seat.car":           {"%02d车", "car %d"},
	"seat.berth":         {"%s号%s", "berth %s, %s"},
	"seat.seat":          {"%s号", "seat %s"},

	"book.title":       {"预订车票", "Book tickets"},
	"book.back":        {"返回查询结果", "Back to the trains found"},
	"book.journey":     {"行程", "Journey"},
	"book.passengers":  {"乘客信息", "Passengers"},
	"book.passenger":   {"乘客 %d", "Passenger %d"},
	"book.name":        {"姓名", "Full name"},
	"book.doc_type":    {"证件类型", "Document type"},
	"book.doc_number":  {"证件号码", "Document number"},
	"book.seat":        {"席别", "Seat"},
	"book.seat_option": {"%s %s（余 %d）", "%s %s (%d left)"},
	"book.submit":      {"提交订单", "Submit order"},
	"book.add":         {"添加乘客", "Add a passenger"},
	"book.remove":      {"删除最后一位乘客", "Remove the last passenger"},
	"book.note":        {"每个订单最多 %d 位乘客。请按证件填写姓名和号码；提交后席位为您保留，请在规定时间内支付。", "Up to %d passengers per order. Enter names and numbers as on the documents; seats are held for you until the payment deadline."},
	"book.unpaid":      {"前往我的订单", "Go to my orders"},

	"orders.title":      {"我的订单", "My orders"},
	"orders.none":       {"您还没有订单。", "You have no orders yet."},
	"orders.find":       {"去查询车票", "Find tickets"},
	"orders.passengers": {"%d 位乘客", "%d passengers"},
	"orders.pay_before": {"请在 %s 前支付", "Pay before %s"},
	"orders.number":     {"订单 %d", "Order %d"},
	"orders.change":     {"改签", "Change"},

	"order.title":      {"订单", "Order"},
	"order.heading":    {"订单 %d", "Order %d"},
	"order.back":       {"返回我的订单", "Back to my orders"},
	"order.not_found":  {"订单 %s 不存在", "order %s does not exist"},
	"order.status":     {"订单状态", "Status"},
	"order.train":      {"车次", "Train"},
	"order.date":       {"乘车日期", "Date"},
	"order.journey":    {"行程", "Journey"},
	"order.total":      {"订单金额", "Total"},
	"order.created":    {"下单时间", "Ordered at"},
	"order.hold":       {"席位已为您保留，请在 %s（北京时间）前完成支付，逾期订单将自动取消。", "Your seats are held: pay before %s (Beijing time), or the order is cancelled."},
	"order.confirming": {"支付处理中：正在等待支付渠道确认，页面会自动刷新。", "Payment being confirmed: waiting for the payment provider; this page refreshes itself."},
	"order.refresh":    {"刷新页面", "Refresh"},
	"order.paid_now":   {"支付成功，祝您旅途愉快！", "Payment received. Have a good trip!"},
	"order.pay":        {"去支付", "Pay"},
	"order.cancel":     {"取消订单", "Cancel order"},
	"order.actions":    {"订单操作", "Order actions"},
	"order.tickets":    {"车票", "Tickets"},
	"order.etickets":   {"电子客票", "E-tickets"},
	"order.ended":      {"此订单已结束，席位已释放。", "This order has ended and its seats are released."},
	"order.refunded":   {"此订单的车票已全部退票。", "Every ticket of this order is refunded."},
	"order.changed":    {"此订单的车票已改签，新车票见改签订单。", "The tickets of this order were changed; the new tickets are in the change orders."},

	"order.change_h":          {"改签", "Change"},
	"order.change_of":         {"此订单改签自", "This order changes a ticket of"},
	"order.change_colon":      {"：", ": "},
	"order.change_of_unknown": {"此订单为改签订单，原车票的订单不在最近的订单中。", "This order is a change of an earlier ticket, whose order is not among your recent ones."},
	"order.change_pay":        {"请补差价 %s：支付后改签完成，原车票改为已改签；逾期未支付则改签取消，原车票仍然有效。", "Pay the difference of %s to complete the change, and the original ticket becomes changed; unpaid in time, the change is dropped and the original ticket stays valid."},
	"order.change_paid":       {"已补差价 %s。", "Difference paid: %s."},
	"order.change_refund":     {"差价退款 %s（已扣改签费 %s），原路退回。", "Difference refunded: %s (less the change fee of %s), to the original payment."},
	"order.change_even":       {"新旧票价相同，无需补退差价。", "Same fare: nothing to pay or refund."},
	"order.change_dropped":    {"此改签未完成，原车票仍然有效。", "This change was not completed; the original ticket stays valid."},
	"order.changed_now":       {"改签成功，祝您旅途愉快！", "Ticket changed. Have a good trip!"},

	"ticket.eticket":        {"电子客票", "E-ticket"},
	"ticket.label":          {"%s 的电子客票", "E-ticket of %s"},
	"ticket.order":          {"订单号", "Order number"},
	"ticket.date":           {"乘车日期", "Date"},
	"ticket.passenger":      {"乘客", "Passenger"},
	"ticket.doc":            {"证件", "Document"},
	"ticket.seat":           {"席位", "Seat"},
	"ticket.fare":           {"票价", "Fare"},
	"ticket.status":         {"状态", "Status"},
	"ticket.train":          {"车次", "Train"},
	"ticket.journey":        {"区间", "Journey"},
	"ticket.refund":         {"退票", "Refund"},
	"ticket.refund_for":     {"退票：%s", "Refund the ticket of %s"},
	"ticket.refund_fee":     {"退票费 %s，应退 %s", "Refund fee %s; you get %s back"},
	"ticket.refunded":       {"已退票：退票费 %s，退款 %s", "Refunded: fee %s, %s returned"},
	"ticket.change":         {"改签", "Change"},
	"ticket.change_for":     {"改签：%s", "Change the ticket of %s"},
	"ticket.change_hint":    {"可改签一次到其他车次或日期，差价多退少补", "Can be changed once to another train or date; the fare difference is paid or refunded"},
	"ticket.change_pending": {"改签待支付：订单 %d", "Change awaiting payment: order %d"},
	"ticket.changed_to":     {"已改签，新车票见订单 %d", "Changed: the new ticket is in order %d"},
	"ticket.changed_see":    {"已改签，新车票见我的订单", "Changed: find the new ticket in my orders"},
	"ticket.no_change":      {"改签后的车票不能再次改签", "A changed ticket cannot be changed again"},

	"change.title":         {"改签", "Change ticket"},
	"change.heading":       {"改签 · 订单 %d", "Change · order %d"},
	"change.back":          {"返回订单", "Back to the order"},
	"change.current":       {"当前车票", "Current ticket"},
	"change.rules":         {"每张车票可改签一次，改到同一区间的其他车次或日期。新票价较高须补差价；较低则退还差价，并按原车票距开车的时间扣除改签费。", "Each ticket can be changed once, to another train or date between the same stations. A dearer fare: pay the difference; a cheaper one: the difference is refunded less a change fee that depends on the time left before the original departure."},
	"change.search":        {"选择新的乘车日期", "Choose the new date"},
	"change.date":          {"新的乘车日期", "New date"},
	"change.submit":        {"查询", "Search"},
	"change.results":       {"%s → %s，%s", "%s → %s, %s"},
	"change.estimate":      {"差价按当前时间估算，提交后以实际结果为准。", "Differences are estimated as of now; the change itself is priced when you submit it."},
	"change.none":          {"当日没有可改签的车次。", "No train to change to that day."},
	"change.current_train": {"这是您当前的车次。", "This is your current train."},
	"change.col.kind":      {"席别 / 差价", "Class / difference"},
	"change.pay":           {"补 %s", "pay %s"},
	"change.refund":        {"退 %s", "refund %s"},
	"change.refund_fee":    {"退 %s（改签费 %s）", "refund %s (fee %s)"},
	"change.even":          {"无差价", "no difference"},
	"change.do":            {"改签", "Change"},
	"change.do_label":      {"改签到 %s %s，%s", "Change to %s %s, %s"},
	"change.not_again":     {"改签后的车票不能再次改签", "a ticket that was changed once cannot be changed again"},
	"change.not_paid":      {"车票状态为%s，不能改签", "the ticket is %s and cannot be changed"},
	"change.no_ticket":     {"订单中没有车票 %s", "the order has no ticket %s"},

	"order.warnings": {"取消提醒", "Cancellation notice"},

	"nav.governance":      {"治理", "Governance"},
	"nav.governance.desc": {"取消次数限制、受限与优先名单审核、取消行为分析。", "Cancel limits, review of the restricted and priority lists, cancellation analytics."},

	"gov.title":         {"取消治理", "Cancellation governance"},
	"gov.subnav":        {"治理", "Governance"},
	"gov.nav.overview":  {"概览", "Overview"},
	"gov.nav.members":   {"名单审核", "List review"},
	"gov.nav.rules":     {"规则", "Rules"},
	"gov.nav.report":    {"行为分析", "Behaviour analytics"},
	"gov.times_beijing": {"时间均为北京时间。", "Times are Beijing time."},

	"list.restricted":      {"受限名单", "Restricted list"},
	"list.priority":        {"优先名单", "Priority list"},
	"list.malicious":       {"疑似恶意名单", "Suspected-malicious list"},
	"source.rule":          {"规则", "Rule"},
	"source.operator":      {"人工", "Operator"},
	"member.active":        {"生效中", "Active"},
	"member.lifted":        {"已解除", "Lifted"},
	"member.expired":       {"已到期", "Expired"},
	"gov.all_lists":        {"全部名单", "Every list"},
	"gov.no_limit":         {"不限", "No limit"},
	"gov.no_warning":       {"不预警", "No warning"},
	"gov.rule_off":         {"未启用", "Off"},
	"gov.lists.h":          {"名单", "Lists"},
	"gov.col.list":         {"名单", "List"},
	"gov.col.active":       {"生效中的记录", "Active memberships"},
	"gov.col.id":           {"编号", "ID"},
	"gov.col.subject":      {"对象", "Subject"},
	"gov.col.source":       {"来源", "Source"},
	"gov.col.reason":       {"原因", "Reason"},
	"gov.col.start":        {"开始时间", "Start"},
	"gov.col.expires":      {"到期时间", "Expires"},
	"gov.col.status":       {"状态", "Status"},
	"gov.col.hold":         {"席位保留时长", "Hold"},
	"gov.col.delay":        {"排队延迟", "Slow lane"},
	"gov.col.block":        {"拒绝订票", "Block"},
	"gov.col.key":          {"编号", "Key"},
	"gov.col.finding":      {"结论", "Finding"},
	"gov.col.ratio":        {"人数 / 基数", "Count / base"},
	"gov.col.share":        {"占比", "Share"},
	"gov.eval.submit":      {"按规则评估名单", "Evaluate lists now"},
	"gov.eval.hint":        {"按当前规则统计滚动窗口内的交易，加入或续期符合规则的对象；人工解除的记录在原期限内不会被重新加入。", "Applies the rules to the transactions of the rolling window now: matching subjects join or are renewed; a membership an operator lifted is not renewed before its term ends."},
	"gov.eval.result":      {"评估结果", "Evaluation result"},
	"gov.eval.done":        {"已评估 %s 至 %s 的 %d 笔交易、%d 个对象，用时 %s。", "Evaluated %[3]d transactions of %[4]d subjects from %[1]s to %[2]s in %[5]s."},
	"gov.eval.added":       {"新加入", "Added"},
	"gov.eval.renewed":     {"续期", "Renewed"},
	"gov.eval.kept_lifted": {"因人工解除未加入", "Left lifted"},

	"gov.rules.title":     {"治理规则", "Governance rules"},
	"gov.rules.in_force":  {"现行规则", "Rules in force"},
	"gov.rules.limits":    {"取消次数限制", "Cancel limits"},
	"gov.rules.lists":     {"名单规则", "List rules"},
	"gov.rules.effects":   {"名单在订票时的作用", "What each list does at booking"},
	"gov.rules.open":      {"查看或修改规则", "See or change the rules"},
	"gov.rules.edit":      {"修改规则", "Change the rules"},
	"gov.rules.edit_hint": {"保存前由治理服务校验；本进程立即生效，其他进程数秒内生效。", "Governance checks the rules before saving them; this process applies them at once, others within seconds."},
	"gov.rules.zero_off":  {"填 0 表示不限制或不预警。", "0 turns a limit or warning off."},
	"gov.rules.effect_of": {"%s的作用", "Effect of the %s"},
	"gov.rules.submit":    {"保存规则", "Save the rules"},
	"gov.rules.saved":     {"规则已保存并生效。", "The rules are saved and in force."},
	"gov.rules.readonly":  {"修改规则需要运营管理员权限。", "Changing the rules needs the operator admin role."},

	"gov.f.account_cancel_limit":      {"每个账号每日手工取消上限", "Manual cancels per account per day"},
	"gov.f.document_warn_at":          {"乘车人每日取消预警阈值", "Passenger cancels per day before a warning"},
	"gov.f.document_cancel_limit":     {"乘车人每日取消上限（跨账号）", "Passenger cancels per day, across accounts"},
	"gov.f.count_expiries":            {"超时返库计入乘车人次数", "Count expired holds for passengers"},
	"gov.f.day_start":                 {"服务日起始时间", "Service day starts at"},
	"gov.f.window_days":               {"统计窗口（天）", "Rolling window (days)"},
	"gov.f.membership_days":           {"规则入单期限（天）", "Rule-made membership term (days)"},
	"gov.f.restricted_min_orders":     {"受限名单：全部取消且无支付的最少交易数", "Restricted: fewest transactions, all cancelled, none paid"},
	"gov.f.malicious_over_cancels":    {"疑似恶意：手工取消超过次数", "Suspected malicious: more manual cancels than"},
	"gov.f.priority_min_transactions": {"优先名单：最少交易数", "Priority: fewest transactions"},
	"gov.f.priority_min_paid_share":   {"优先名单：最低支付占比（0–1）", "Priority: lowest paid share (0–1)"},
	"gov.f.hold_minutes":              {"席位保留时长（分钟，0 为不变）", "Hold (minutes, 0: unchanged)"},
	"gov.f.delay_millis":              {"排队延迟（毫秒）", "Slow-lane delay (ms)"},
	"gov.f.block":                     {"拒绝订票", "Refuse bookings"},

	"gov.s.account_limit":    {"每个账号每日最多手工取消 %d 次，达到后当日不能再订票", "Up to %d manual cancels per account a day; then it cannot book until the day ends"},
	"gov.s.warn_at":          {"同一乘车人当日被取消 %d 次起提醒", "A passenger is warned from %d cancels a day"},
	"gov.s.document_limit":   {"同一乘车人当日被取消 %d 次后（含所有账号），当日不能再为其订票", "After %d cancels a day across all accounts, a passenger cannot be booked until the day ends"},
	"gov.s.expiries_counted": {"是：超时返库与手工取消一并计入乘车人次数", "Yes: expired holds count with manual cancels"},
	"gov.s.expiries_apart":   {"否：超时返库单独计数，不计入上限", "No: expired holds are counted apart, not towards the limit"},
	"gov.s.day_start":        {"每日 %s（北京时间）起重新计数", "Counts restart at %s Beijing time"},
	"gov.s.window":           {"最近 %d 天", "The last %d days"},
	"gov.s.membership":       {"%d 天，仍符合规则时续期", "%d days, renewed while the subject still matches"},
	"gov.s.restricted":       {"窗口内至少 %d 笔交易且全部取消或超时、从未支付", "At least %d transactions in the window, all cancelled or expired, none paid"},
	"gov.s.malicious":        {"窗口内手工取消超过 %d 次", "More than %d manual cancels in the window"},
	"gov.s.priority":         {"窗口内至少 %d 笔交易且支付占比不低于 %s", "At least %d transactions in the window, with a paid share of %s or more"},
	"gov.e.hold":             {"%d 分钟", "%d minutes"},
	"gov.e.hold_same":        {"不变", "Unchanged"},
	"gov.e.delay":            {"%d 毫秒", "%d ms"},
	"gov.e.no_delay":         {"无", "None"},
	"gov.e.block":            {"拒绝", "Refused"},
	"gov.e.no_block":         {"否", "No"},

	"gov.members.title":       {"名单审核", "List review"},
	"gov.members.h":           {"名单记录", "Memberships"},
	"gov.members.active_only": {"仅显示生效中", "Active only"},
	"gov.members.filter":      {"筛选", "Filter"},
	"gov.members.clear":       {"清除筛选", "Clear the filter"},
	"gov.members.none":        {"没有符合条件的名单记录。", "No membership matches."},
	"gov.members.open":        {"查看名单记录 %d", "Open membership %d"},
	"gov.members.page":        {"第 %d 页", "Page %d"},
	"gov.members.pages":       {"分页", "Pages"},
	"gov.members.prev":        {"上一页", "Previous"},
	"gov.members.next":        {"下一页", "Next"},
	"gov.add.h":               {"人工加入名单", "Add by hand"},
	"gov.add.subject_hint":    {"账号填 account:账号ID；乘车人填 doc:证件类型:证件号，如 doc:id_card:360102199001021234。", "An account is account:ID; a passenger is doc:TYPE:NUMBER, e.g. doc:id_card:360102199001021234."},
	"gov.add.days":            {"期限（天）", "Term (days)"},
	"gov.add.submit":          {"加入名单", "Add to the list"},

	"gov.member.title":       {"名单记录", "Membership"},
	"gov.member.heading":     {"名单记录 %d", "Membership %d"},
	"gov.member.not_found":   {"名单记录 %s 不存在", "membership %s does not exist"},
	"gov.member.back":        {"返回名单审核", "Back to the list review"},
	"gov.member.facts":       {"记录详情", "Details"},
	"gov.member.lifted_at":   {"解除时间", "Lifted at"},
	"gov.member.lifted_by":   {"解除人", "Lifted by"},
	"gov.member.lift_reason": {"解除原因", "Lift reason"},
	"gov.member.ended":       {"此记录已解除或已到期，不能再解除或延期；如需再次限制，请人工加入名单。", "This membership was lifted or has expired and can no longer be lifted or extended; add the subject again by hand if needed."},
	"gov.audit.h":            {"审计轨迹", "Audit trail"},
	"gov.audit.at":           {"时间（北京时间）", "When (Beijing time)"},
	"gov.audit.actor":        {"操作人", "Who"},
	"gov.audit.action":       {"操作", "What"},
	"gov.audit.detail":       {"说明", "Detail"},
	"gov.action.add":         {"加入", "Added"},
	"gov.action.renew":       {"续期", "Renewed"},
	"gov.action.lift":        {"解除", "Lifted"},
	"gov.action.extend":      {"延期", "Extended"},
	"gov.review.h":           {"审核", "Review"},
	"gov.lift.h":             {"解除", "Lift"},
	"gov.lift.submit":        {"立即解除", "Lift now"},
	"gov.extend.h":           {"延期", "Extend"},
	"gov.extend.days":        {"延长天数", "Days to add"},
	"gov.extend.submit":      {"延长期限", "Extend"},

	"gov.report.title":           {"取消行为分析", "Cancellation behaviour"},
	"gov.report.window":          {"统计范围", "Window"},
	"gov.report.from":            {"开始日期", "From"},
	"gov.report.to":              {"结束日期（含）", "To (inclusive)"},
	"gov.report.train_field":     {"车次（可选）", "Train (optional)"},
	"gov.report.hint":            {"按下单日期统计（北京时间），默认最近 30 天；不填车次则统计全网。", "Orders placed on those days (Beijing time), by default the last 30 days; the whole network unless a train is given."},
	"gov.report.submit":          {"生成报告", "Show the report"},
	"gov.report.network":         {"全网", "Whole network"},
	"gov.report.train":           {"车次 %s", "Train %s"},
	"gov.report.scope":           {"%s · %s 至 %s", "%s · %s to %s"},
	"gov.report.csv":             {"下载 CSV", "Download CSV"},
	"gov.report.findings":        {"结论", "Findings"},
	"gov.report.definition":      {"口径", "Definition"},
	"gov.total.transactions":     {"交易笔数", "Transactions"},
	"gov.total.passengers":       {"乘车人数", "Passengers"},
	"gov.total.accounts":         {"订票账号数", "Booking accounts"},
	"gov.total.paid":             {"支付成功", "Paid"},
	"gov.total.cancelled":        {"手工取消", "Cancelled by hand"},
	"gov.total.expired":          {"超时返库", "Expired"},
	"gov.total.pending":          {"待支付", "Pending"},
	"gov.total.span":             {"下单时间范围", "Orders placed"},
	"gov.f2.group":               {"购票过程", "Episodes"},
	"gov.f2.success":             {"成功购票", "Succeeded"},
	"gov.f2.gave_up":             {"放弃", "Gave up"},
	"gov.f2.episodes":            {"过程数", "Episodes"},
	"gov.f2.median":              {"中位数", "Median"},
	"gov.f2.mean":                {"平均数", "Mean"},
	"gov.f2.p90":                 {"P90", "P90"},
	"gov.f2.open":                {"另有 %d 个未结束的过程（有待支付订单），不计入上表。", "%d more episodes are open (a hold is pending) and not in the table."},
	"gov.chart.passengers":       {"乘车人", "Passengers"},
	"gov.chart.share_passengers": {"乘车人占比", "Share of passengers"},
	"gov.chart.share_episodes":   {"过程占比", "Share of episodes"},
	"gov.chart.paid_share":       {"支付交易占比", "Share of transactions paid"},
	"gov.chart.cancels":          {"手工取消次数", "Manual cancels"},
	"gov.chart.accounts":         {"订票账号数", "Booking accounts"},
	"gov.chart.of":               {"基数：%s（%d 人）。", "Base: %s (%d)."},
	"gov.chart.cell":             {"%d（%s）", "%d (%s)"},
	"gov.chart.series":           {"%s（%d 个过程）", "%s (%d episodes)"},
	"gov.chart.f2_def":           {"成功购票与放弃的过程按手工取消次数分布，各自占本组过程的比例。", "Successful and given-up episodes by number of manual cancels, as shares of their group."},
	"gov.chart.table":            {"以表格查看数据", "Data as a table"},

	"status.held":      {"待支付", "Awaiting payment"},
	"status.paid":      {"已支付", "Paid"},
	"status.cancelled": {"已取消", "Cancelled"},
	"status.expired":   {"已超时", "Expired"},
	"status.refunded":  {"已退票", "Refunded"},
	"status.changed":   {"已改签", "Changed"},
}
