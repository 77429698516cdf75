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
}
