package demo

import "piao/internal/network"

type metroStop struct {
	key, zh, en, pinyin string
	km                  float64 // cumulative along the line
}

type metroLine struct {
	code, zh, en, color string
	stops               []metroStop
}

// The demo metro is modelled on Ningbo: line 1 east–west through Gulou,
// line 2 from the airport through Ningbo Railway Station and Gulou, line 3
// north–south joining line 1 at Sakura Park and line 2 at the railway
// station. Distances are approximate.
var metroLines = []metroLine{
	{"1", "1号线", "Line 1", "0072BC", []metroStop{
		{"GQX", "高桥西", "Gaoqiao West", "gao qiao xi", 0},
		{"WCQ", "望春桥", "Wangchunqiao", "wang chun qiao", 2.6},
		{"ZM", "泽民", "Zemin", "ze min", 3.9},
		{"DQQ", "大卿桥", "Daqingqiao", "da qing qiao", 5.1},
		{"XMK", "西门口", "Ximenkou", "xi men kou", 6.3},
		{"GL", "鼓楼", "Gulou", "gu lou", 7.2},
		{"DMK", "东门口", "Dongmenkou", "dong men kou", 7.9},
		{"JXQD", "江厦桥东", "Jiangxiaqiao East", "jiang xia qiao dong", 8.8},
		{"ZMBL", "舟孟北路", "Zhoumeng North Road", "zhou meng bei lu", 10.1},
		{"YHGY", "樱花公园", "Sakura Park", "ying hua gong yuan", 11.2},
		{"FQBL", "福庆北路", "Fuqing North Road", "fu qing bei lu", 12.4},
		{"DHNL", "东环南路", "Donghuan South Road", "dong huan nan lu", 14.0},
		{"XP", "霞浦", "Xiapu", "xia pu", 24.5},
	}},
	{"2", "2号线", "Line 2", "E4002B", []metroStop{
		{"LSJC", "栎社国际机场", "Lishe International Airport", "li she guo ji ji chang", 0},
		{"LS", "栎社", "Lishe", "li she", 2.1},
		{"CCSC", "丽园南路", "Liyuan South Road", "li yuan nan lu", 5.8},
		{"NBHCZ", "宁波火车站", "Ningbo Railway Station", "ning bo huo che zhan", 8.9},
		{"CHM", "城隍庙", "Chenghuangmiao", "cheng huang miao", 10.0},
		{"GL", "鼓楼", "Gulou", "gu lou", 10.8},
		{"WTDQ", "外滩大桥", "Waitan Bridge", "wai tan da qiao", 11.9},
		{"RML", "人民路", "Renmin Road", "ren min lu", 12.8},
		{"KP", "孔浦", "Kongpu", "kong pu", 15.2},
		{"QSP", "清水浦", "Qingshuipu", "qing shui pu", 19.6},
	}},
	{"3", "3号线", "Line 3", "F39800", []metroStop{
		{"GTQ", "高塘桥", "Gaotangqiao", "gao tang qiao", 0},
		{"YHGY", "樱花公园", "Sakura Park", "ying hua gong yuan", 1.8},
		{"ETGY", "儿童公园", "Children's Park", "er tong gong yuan", 3.6},
		{"NBHCZ", "宁波火车站", "Ningbo Railway Station", "ning bo huo che zhan", 5.9},
		{"NBSWQ", "南部商务区", "Southern Business District", "nan bu shang wu qu", 8.4},
		{"YZQZF", "鄞州区政府", "Yinzhou District Government", "yin zhou qu zheng fu", 10.3},
		{"QHBL", "钱湖北路", "Qianhu North Road", "qian hu bei lu", 12.6},
	}},
}

// ningboBands are distance-band fares as Ningbo prices them: ¥2 up to 4 km,
// then ¥1 more per 4 km to 12 km, per 6 km to 24 km, and per 8 km beyond.
var ningboBands = []network.FareBand{
	{UpToMetres: 4000, Fen: 200}, {UpToMetres: 8000, Fen: 300}, {UpToMetres: 12000, Fen: 400},
	{UpToMetres: 18000, Fen: 500}, {UpToMetres: 24000, Fen: 600}, {UpToMetres: 32000, Fen: 700},
	{UpToMetres: 40000, Fen: 800}, {UpToMetres: 48000, Fen: 900}, {UpToMetres: 0, Fen: 1000},
}

// Metro returns the demo metro feed.
func Metro() *network.Bundle {
	b := &network.Bundle{
		Feed:     network.Feed{ID: MetroFeed, Name: "宁波轨道交通（演示）Ningbo Rail Transit (demo)", Mode: network.ModeMetro, Timezone: "Asia/Shanghai"},
		Agencies: []network.Agency{{ID: "nbmetro:NBRT", FeedID: MetroFeed, Name: "宁波市轨道交通集团 Ningbo Rail Transit", Timezone: "Asia/Shanghai", Lang: "zh"}},
	}
	seen := map[string]bool{}
	for _, l := range metroLines {
		line := network.Line{ID: "nbmetro:L" + l.code, FeedID: MetroFeed, AgencyID: "nbmetro:NBRT", Code: l.code, NameZH: l.zh, NameEN: l.en, RouteType: 1, Color: l.color, TextColor: "FFFFFF"}
		for i, s := range l.stops {
			id := "nbmetro:" + s.key
			if !seen[id] {
				seen[id] = true
				b.Stations = append(b.Stations, network.Station{ID: id, FeedID: MetroFeed, NameZH: s.zh, NameEN: s.en, Pinyin: s.pinyin, City: "宁波"})
			}
			line.Stations = append(line.Stations, network.LineStation{Seq: i + 1, StationID: id, Metres: int(s.km * 1000)})
		}
		b.Lines = append(b.Lines, line)
	}
	for _, fb := range ningboBands {
		fb.FeedID = MetroFeed
		b.FareBands = append(b.FareBands, fb)
	}
	b.Feed.Digest = digest(b)
	return b
}
