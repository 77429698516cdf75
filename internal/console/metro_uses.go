package console

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/metro"
	"piao/internal/network"
)

// usesPage is a campaign's benefit use on metro trips by entry station,
// exit station and hour of entry (SPEC V6, M5): what free-ride days and
// subsidies were used for.
type usesPage struct {
	ID      int64
	Back    string
	Name    string
	From    string // YYYY-MM-DD, first day shown
	Until   string // YYYY-MM-DD, last day shown
	Trips   int
	Saving  string
	Hours   []useRow
	Entries []useRow
	Exits   []useRow
	ODs     []odRow
	Chart   map[string]any
	// HasHoursChart, HasEntriesChart and HasExitsChart say which charts
	// have bars to draw; the others say there is no data.
	HasHoursChart, HasEntriesChart, HasExitsChart bool
	NoMetro                                       bool
	Invalid                                       bool
	MaxDays                                       int
}

type useRow struct {
	Label  string
	Trips  int
	Saving string
	saving int64
}

type odRow struct {
	From, To string
	Trips    int
}

// usesMaxDays bounds the window one page reads.
const usesMaxDays = 92

// campaignUses shows GET /benefits/campaigns/{id}/uses?from=…&until=….
func (c *Console) campaignUses(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "campaign_not_found", "活动不存在", "campaign not found")))
		return
	}
	ctx, l := r.Context(), st.lang
	cp, err := c.deps.Benefits.Campaign(ctx, st.principal.Tenant(), id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := usesPage{ID: id, Back: campaignPath(id), Name: pickName(cp.NameZH, cp.NameEN, l), MaxDays: usesMaxDays}
	from, until := usesWindow(cp)
	status := http.StatusOK
	if q := r.URL.Query().Get("from"); q != "" {
		f, err1 := network.ParseDate(q)
		u, err2 := network.ParseDate(r.URL.Query().Get("until"))
		if err1 != nil || err2 != nil || u.Before(f) || u.AddDays(-usesMaxDays+1).After(f) {
			d.Invalid, status = true, http.StatusBadRequest
		} else {
			from, until = f, u
		}
	}
	d.From, d.Until = from.String(), until.String()
	if c.deps.Metro == nil {
		d.NoMetro = true
	} else if !d.Invalid {
		uses, err := c.deps.Metro.UseStats(ctx, id, from.In(shanghai), until.AddDays(1).In(shanghai))
		if err != nil {
			c.fail(w, r, st, err)
			return
		}
		c.fillUses(r, &d, uses, l)
	}
	v := c.newViewBack(r, st, "mt.uses.title", d.Back)
	v.Scripts = []string{"/static/vendor/echarts/echarts.min.js", "/static/metro_uses.js"}
	v.Data = d
	c.render(w, r, status, "metro_uses.html", v)
}

// usesWindow is the days, in Beijing time, whose trips a campaign's use is
// counted over by default: the campaign's own, its last usesMaxDays at most.
func usesWindow(cp benefits.Campaign) (from, until network.Date) {
	from, until = network.DateOf(cp.Starts.In(shanghai)), network.DateOf(cp.Ends.Add(-time.Nanosecond).In(shanghai))
	if until.AddDays(-usesMaxDays + 1).After(from) {
		from = until.AddDays(-usesMaxDays + 1)
	}
	return from, until
}

// metroIndex is the metro statistics page: the campaigns whose benefit
// settled trips used, with their totals, each linking to its page by
// station and hour.
type metroIndex struct {
	Campaigns []usedCampaign
	NoMetro   bool
	MaxDays   int
}

// usedCampaign is a campaign of the metro statistics page.
type usedCampaign struct {
	ID                 int64
	URL, Name          string
	Status, StatusName string
	From, Until        string
	Channels           string
	Automatic          bool
	Trips              int
	Saving             string
}

// usedStatuses are the stored statuses of campaigns that have run, whose
// benefit trips may have used: not drafts, nor those waiting or refused.
var usedStatuses = []benefits.Status{benefits.Approved, benefits.Active, benefits.Paused, benefits.Terminated, benefits.Ended}

// usesIndexLimit bounds how many campaigns the page looks at, the newest
// first: each costs one read of its use.
const usesIndexLimit = 200

// metroUses shows GET /metro: every campaign that has run and whose benefit
// settled metro trips used in its window, automatic free-ride days and
// subsidies included, with its trips and savings.
func (c *Console) metroUses(w http.ResponseWriter, r *http.Request, st *state) {
	ctx, l := r.Context(), st.lang
	d := metroIndex{MaxDays: usesMaxDays, NoMetro: c.deps.Metro == nil}
	if !d.NoMetro {
		cs, err := c.deps.Benefits.Campaigns(ctx, st.principal.Tenant(), benefits.CampaignFilter{Statuses: usedStatuses, Limit: usesIndexLimit})
		if err != nil {
			c.fail(w, r, st, err)
			return
		}
		now := c.deps.Benefits.Now()
		for _, cp := range cs {
			from, until := usesWindow(cp)
			uses, err := c.deps.Metro.UseStats(ctx, cp.ID, from.In(shanghai), until.AddDays(1).In(shanghai))
			if err != nil {
				c.fail(w, r, st, err)
				return
			}
			row := usedCampaign{ID: cp.ID, URL: campaignPath(cp.ID) + "/uses", Name: pickName(cp.NameZH, cp.NameEN, l),
				From: from.String(), Until: until.String(), Automatic: cp.Automatic()}
			var saving int64
			for _, u := range uses {
				row.Trips += u.Trips
				saving += u.Saving
			}
			if row.Trips == 0 {
				continue
			}
			eff := cp.Effective(now)
			row.Status, row.StatusName, row.Saving = string(eff), l.T("bn.status."+string(eff)), yuan(saving)
			var chans []string
			for _, ch := range cp.Channels {
				chans = append(chans, l.T("bn.channel."+string(ch)))
			}
			row.Channels = strings.Join(chans, l.T("list.sep"))
			d.Campaigns = append(d.Campaigns, row)
		}
		sort.SliceStable(d.Campaigns, func(i, j int) bool { return d.Campaigns[i].Trips > d.Campaigns[j].Trips })
	}
	v := c.newView(r, st, "mt.index.title")
	v.Data = d
	c.render(w, r, http.StatusOK, "metro.html", v)
}

// fillUses sums the counts by hour, entry and exit station, and OD pair.
func (c *Console) fillUses(r *http.Request, d *usesPage, uses []metro.UseCount, l lang) {
	names := map[string]string{}
	name := func(id string) string {
		if id == "" {
			return l.T("mt.uses.unknown_station")
		}
		if n, ok := names[id]; ok {
			return n
		}
		n := id
		if s, err := c.deps.Catalog.Station(r.Context(), id); err == nil {
			n = stationName(s, l)
		}
		names[id] = n
		return n
	}
	var hours [24]useRow
	entries, exits := map[string]*useRow{}, map[string]*useRow{}
	ods := map[[2]string]int{}
	var total int64
	add := func(m map[string]*useRow, key string, u metro.UseCount) {
		row := m[key]
		if row == nil {
			row = &useRow{Label: name(key)}
			m[key] = row
		}
		row.Trips += u.Trips
		row.saving += u.Saving
	}
	for _, u := range uses {
		d.Trips += u.Trips
		total += u.Saving
		if u.Hour >= 0 && u.Hour < 24 {
			hours[u.Hour].Trips += u.Trips
			hours[u.Hour].saving += u.Saving
		}
		add(entries, u.From, u)
		add(exits, u.To, u)
		ods[[2]string{u.From, u.To}] += u.Trips
	}
	d.Saving = yuan(total)
	labels, counts := []string{}, []int{}
	for h := range hours {
		hours[h].Label = strconv.Itoa(h) + ":00"
		hours[h].Saving = yuan(hours[h].saving)
		labels, counts = append(labels, hours[h].Label), append(counts, hours[h].Trips)
	}
	if d.Trips > 0 {
		d.Hours = hours[:]
	}
	d.Entries, d.Exits = ranked(entries), ranked(exits)
	for k, n := range ods {
		d.ODs = append(d.ODs, odRow{From: name(k[0]), To: name(k[1]), Trips: n})
	}
	sort.Slice(d.ODs, func(i, j int) bool {
		if d.ODs[i].Trips != d.ODs[j].Trips {
			return d.ODs[i].Trips > d.ODs[j].Trips
		}
		return d.ODs[i].From+d.ODs[i].To < d.ODs[j].From+d.ODs[j].To
	})
	if len(d.ODs) > 20 {
		d.ODs = d.ODs[:20]
	}
	top := func(rows []useRow) ([]string, []int) {
		var ls []string
		var ns []int
		for i, r := range rows {
			if i == 15 {
				break
			}
			ls, ns = append(ls, r.Label), append(ns, r.Trips)
		}
		return ls, ns
	}
	el, en := top(d.Entries)
	xl, xn := top(d.Exits)
	d.HasHoursChart, d.HasEntriesChart, d.HasExitsChart = d.Trips > 0, slices.ContainsFunc(en, positive), slices.ContainsFunc(xn, positive)
	d.Chart = map[string]any{"hours": labels, "byHour": counts, "entries": el, "byEntry": en, "exits": xl, "byExit": xn,
		"labels": map[string]string{"hour": l.T("mt.uses.by_hour"), "entry": l.T("mt.uses.by_entry"), "exit": l.T("mt.uses.by_exit"), "trips": l.T("mt.uses.trips")}}
}

// positive reports whether n > 0.
func positive(n int) bool { return n > 0 }

// ranked orders rows by trips, most first, then by name.
func ranked(m map[string]*useRow) []useRow {
	out := make([]useRow, 0, len(m))
	for _, r := range m {
		r.Saving = yuan(r.saving)
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Trips != out[j].Trips {
			return out[i].Trips > out[j].Trips
		}
		return out[i].Label < out[j].Label
	})
	return out
}
