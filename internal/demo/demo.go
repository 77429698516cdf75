// Package demo builds piao's demonstration data: the trains of seed 004
// (Z66 and T168 Nanchang → Beijing West), a high-speed G train, a metro
// network modelled on Ningbo, and one login per role. It only builds data
// and hands it to domain services; it never touches storage directly.
package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/network"
)

// Feed IDs of the demo data.
const (
	RailFeed  = "cr"
	MetroFeed = "nbmetro"
)

// Days is how many days the demo trains run from the seeding day.
const Days = 30

// PastDays is how many days before the seeding day the demo trains ran
// too: the demo's month of booking behaviour (simulate.SeedDemoMonth) is
// on the trains of those days, so its orders have timetables and fares.
// With the seeding day it makes the behaviour report's default window,
// the last 30 days.
const PastDays = 29

type stationDef struct {
	code, zh, en, pinyin, city string
	lat, lon                   float64
}

var railStations = []stationDef{
	{"NCG", "南昌", "Nanchang", "nan chang", "南昌", 28.6646, 115.9199},
	{"NXG", "南昌西", "Nanchang West", "nan chang xi", "南昌", 28.6229, 115.7900},
	{"JJG", "九江", "Jiujiang", "jiu jiang", "九江", 29.6840, 115.9550},
	{"MCN", "麻城", "Macheng", "ma cheng", "黄冈", 31.1770, 115.0150},
	{"FYH", "阜阳", "Fuyang", "fu yang", "阜阳", 32.8830, 115.8040},
	{"SQF", "商丘", "Shangqiu", "shang qiu", "商丘", 34.4300, 115.6500},
	{"HIK", "菏泽", "Heze", "he ze", "菏泽", 35.2400, 115.4300},
	{"UCK", "聊城", "Liaocheng", "liao cheng", "聊城", 36.4500, 115.9900},
	{"HSP", "衡水", "Hengshui", "heng shui", "衡水", 37.7400, 115.6800},
	{"WHN", "武汉", "Wuhan", "wu han", "武汉", 30.6070, 114.4240},
	{"ZAF", "郑州东", "Zhengzhou East", "zheng zhou dong", "郑州", 34.7600, 113.7700},
	{"SJP", "石家庄", "Shijiazhuang", "shi jia zhuang", "石家庄", 38.0100, 114.4800},
	{"BXP", "北京西", "Beijing West", "bei jing xi", "北京", 39.8950, 116.3220},
}

// call is one stop of a demo train: station code, arrival and departure as
// "HH:MM" with a day offset, and the distance from the origin in km.
type call struct {
	code           string
	arrive, depart string
	day            int
	km             int
}

type trainDef struct {
	number string
	calls  []call
	cars   []string // car type per car, in order
}

func cars(kind string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = kind
	}
	return out
}

// Z66 is non-stop with sleepers only, hard:soft berths about 3:1 (12 × 66
// hard against 7 × 36 soft: 792:252). T168 calls at seven stations on the
// Beijing–Kowloon line. G488 is the high-speed train with five calls.
var trains = []trainDef{
	{"Z66", []call{{"NCG", "", "20:06", 0, 0}, {"BXP", "07:32", "", 1, 1449}},
		append(cars("YW", 12), cars("RW", 7)...)},
	{"T168", []call{
		{"NCG", "", "19:07", 0, 0}, {"JJG", "20:25", "20:31", 0, 135}, {"MCN", "23:40", "23:46", 0, 372},
		{"FYH", "02:58", "03:06", 1, 652}, {"SQF", "04:55", "05:01", 1, 812}, {"HIK", "05:58", "06:02", 1, 893},
		{"UCK", "07:41", "07:47", 1, 1052}, {"HSP", "09:35", "09:41", 1, 1190}, {"BXP", "13:00", "", 1, 1449}},
		append(cars("YW", 10), cars("RW", 2)...)},
	{"G488", []call{
		{"NXG", "", "08:05", 0, 0}, {"JJG", "08:52", "08:55", 0, 135}, {"WHN", "10:20", "10:25", 0, 385},
		{"ZAF", "12:30", "12:34", 0, 921}, {"SJP", "14:15", "14:18", 0, 1333}, {"BXP", "15:30", "", 0, 1610}},
		append([]string{"SW", "ZY"}, cars("ZE", 6)...)},
}

// fare rates in fen per km of the base position, and the multiplier of each
// berth: lower hard-sleeper berths cost about ¥10 more than upper ones on
// Nanchang–Beijing, as seed 004 reports.
var fareRates = map[network.SeatClass]float64{
	network.HardSleeper: 18.0,
	network.SoftSleeper: 28.5,
	network.SecondClass: 46.0,
	network.FirstClass:  73.6,
	network.Business:    142.6,
}

var berthFactor = map[network.Berth]float64{
	network.NoBerth: 1, network.Upper: 1, network.Middle: 1.02, network.Lower: 1.04,
}

// railFare prices km in a class and berth, rounded to ¥0.5 as 12306 does.
func railFare(class network.SeatClass, berth network.Berth, km int) int64 {
	raw := float64(km) * fareRates[class] * berthFactor[berth]
	return int64(math.Round(raw/50)) * 50
}

func hhmm(s string, day int) int {
	var h, m int
	fmt.Sscanf(s, "%d:%d", &h, &m)
	return day*86400 + h*3600 + m*60
}

// Rail returns the demo railway feed, with every train running daily from start for days.
func Rail(start network.Date, days int) *network.Bundle {
	b := &network.Bundle{
		Feed:     network.Feed{ID: RailFeed, Name: "中国铁路（演示）China Railway (demo)", Mode: network.ModeRail, Timezone: "Asia/Shanghai"},
		Agencies: []network.Agency{{ID: "cr:CR", FeedID: RailFeed, Name: "中国国家铁路集团 China Railway", URL: "https://www.12306.cn", Timezone: "Asia/Shanghai", Lang: "zh"}},
		CarTypes: network.StandardCarTypes(),
	}
	for _, s := range railStations {
		b.Stations = append(b.Stations, network.Station{ID: "cr:" + s.code, FeedID: RailFeed, Code: s.code, NameZH: s.zh, NameEN: s.en, Pinyin: s.pinyin, City: s.city, Lat: s.lat, Lon: s.lon})
	}
	b.Lines = []network.Line{
		{ID: "cr:JJ", FeedID: RailFeed, AgencyID: "cr:CR", Code: "京九", NameZH: "京九铁路", NameEN: "Beijing–Kowloon Railway", RouteType: 2},
		{ID: "cr:JG", FeedID: RailFeed, AgencyID: "cr:CR", Code: "京港高铁", NameZH: "京港高速铁路", NameEN: "Beijing–Hong Kong High-Speed Railway", RouteType: 2},
	}
	b.Calendars = []network.Calendar{network.Daily("cr:daily", RailFeed, start, days)}
	for _, tr := range trains {
		svc := network.Service{ID: "cr:" + tr.number, FeedID: RailFeed, LineID: "cr:JJ", Number: tr.number, CalendarID: "cr:daily", Headsign: "北京西"}
		if tr.number[0] == 'G' {
			svc.LineID = "cr:JG"
		}
		for i, c := range tr.calls {
			arr, dep := c.arrive, c.depart
			if arr == "" {
				arr = dep
			}
			if dep == "" {
				dep = arr
			}
			a, d := hhmm(arr, c.day), hhmm(dep, c.day)
			svc.Stops = append(svc.Stops, network.Stop{Seq: i + 1, StationID: "cr:" + c.code, Arrive: a, Depart: d, Metres: c.km * 1000})
		}
		for i, ct := range tr.cars {
			svc.Cars = append(svc.Cars, network.Car{No: i + 1, CarType: ct})
		}
		b.Services = append(b.Services, svc)
		b.Fares = append(b.Fares, serviceFares(svc, tr.cars)...)
	}
	b.Feed.Digest = digest(b)
	return b
}

// serviceFares prices every origin–destination pair of a service in every
// class and berth it carries.
func serviceFares(svc network.Service, carTypes []string) []network.Fare {
	classes := map[network.SeatClass]bool{}
	var order []network.SeatClass
	for _, ct := range network.StandardCarTypes() {
		for _, c := range carTypes {
			if c == ct.Code && !classes[ct.SeatClass] {
				classes[ct.SeatClass] = true
				order = append(order, ct.SeatClass)
			}
		}
	}
	var out []network.Fare
	for i, from := range svc.Stops {
		for _, to := range svc.Stops[i+1:] {
			km := (to.Metres - from.Metres) / 1000
			for _, class := range order {
				for _, berth := range class.Berths() {
					out = append(out, network.Fare{ServiceID: svc.ID, FromStationID: from.StationID, ToStationID: to.StationID, SeatClass: class, Berth: berth, Fen: railFare(class, berth, km)})
				}
			}
		}
	}
	return out
}

// digest fingerprints a generated bundle so re-seeding identical data writes nothing.
func digest(b *network.Bundle) string {
	saved := b.Feed.Digest
	b.Feed.Digest = ""
	data, _ := json.Marshal(b)
	b.Feed.Digest = saved
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Login is a demo account's credentials.
type Login struct {
	Username string        `json:"username"`
	Password string        `json:"password"`
	Role     identity.Role `json:"role"`
	Name     string        `json:"name"`
	// Merchant and Grants: the demo merchant a merchant's login works for
	// (1 the mall, 2 the bank, 4 the employer) and what its staff may do.
	// Merchants' logins are made by onboarding (SeedMerchants; the
	// employer's by SeedMoney), not by Seed.
	Merchant int64                 `json:"merchant,omitempty"`
	Grants   []identity.Permission `json:"grants,omitempty"`
}

// Logins are the demo accounts, one per role, the second merchant's
// admin and staff, and the demo employer's admin (made by SeedMoney). The first login of a role is that role's demo login.
var Logins = []Login{
	{"admin", "piao-admin-2026", identity.OperatorAdmin, "运营管理员 Operator admin", 0, nil},
	{"reviewer", "piao-reviewer-2026", identity.OperatorReviewer, "运营审核员 Operator reviewer", 0, nil},
	{"auditor", "piao-auditor-2026", identity.OperatorAuditor, "运营审计员 Operator auditor", 0, nil},
	{"merchant", "piao-merchant-2026", identity.MerchantAdmin, "商户管理员 Merchant admin", 1, nil},
	{"staff", "piao-staff-2026", identity.MerchantStaff, "商户员工 Merchant staff", 1, []identity.Permission{identity.MerchantCampaigns, identity.MerchantReports}},
	{"bank", "piao-bank-2026", identity.MerchantAdmin, "银行商户管理员 Bank merchant admin", 2, nil},
	{"teller", "piao-teller-2026", identity.MerchantStaff, "银行员工 Bank staff", 2, []identity.Permission{identity.MerchantDistribution, identity.MerchantReports}},
	{"hr", "piao-hr-2026", identity.MerchantAdmin, "企业人事管理员 Employer HR admin", EmployerMerchant, nil},
	{"passenger", "piao-passenger-2026", identity.Passenger, "旅客 Passenger", 0, nil},
	{"partner", "piao-partner-2026", identity.Partner, "合作平台 Partner platform", 0, nil},
	{"gate", "piao-gate-2026", identity.Gate, "闸机 Station gate", 0, nil},
}

// Summary says what seeding did.
type Summary struct {
	Rail  network.ImportResult `json:"rail"`
	Metro network.ImportResult `json:"metro"`
	// AccountsCreated counts demo logins created now (existing ones are
	// kept); merchants' logins are SeedMerchants'.
	AccountsCreated int `json:"accounts_created"`
}

// Seed writes the demo network (trains running from today for Days days,
// and the PastDays before) and the demo logins but the merchants' (which
// their onboarding makes: SeedMerchants). It is idempotent: seeding
// again on the same day writes nothing, and existing logins are left as
// they are.
func Seed(ctx context.Context, net network.Store, ids *identity.Service, today network.Date) (Summary, error) {
	var s Summary
	var err error
	if s.Rail, err = net.ImportBundle(ctx, Rail(today.AddDays(-PastDays), PastDays+Days)); err != nil {
		return s, fmt.Errorf("seed rail: %w", err)
	}
	if s.Metro, err = net.ImportBundle(ctx, Metro()); err != nil {
		return s, fmt.Errorf("seed metro: %w", err)
	}
	for _, l := range Logins {
		if l.Merchant != 0 {
			continue
		}
		_, err := ids.CreateAccount(ctx, identity.NewAccount{Username: l.Username, DisplayName: l.Name, Role: l.Role, Password: l.Password, Merchant: l.Merchant, Grants: l.Grants})
		switch {
		case err == nil:
			s.AccountsCreated++
		case fault.Is(err, fault.Conflict):
		default:
			return s, fmt.Errorf("seed login %s: %w", l.Username, err)
		}
	}
	return s, nil
}
