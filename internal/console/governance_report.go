package console

import (
	"bytes"
	"context"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"piao/internal/behaviour"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
)

// The behaviour report (SPEC G4): the paper's findings over a window of
// days, for the network or one train, as tables, as ECharts charts drawn by
// static/governance_report.js from JSON embedded in the page, and as CSV.

// reportDays is the default window: the last 30 days, today included.
const reportDays = 30

// reportQuery is the report's form as typed (dates filled in by default).
type reportQuery struct {
	From, To, Train string
}

// reportWindow reads the window and train of a report query: to defaults
// to today, from to 29 days before to, train to the whole network.
func (c *Console) reportWindow(ctx context.Context, q url.Values) (reportQuery, governance.Window, error) {
	rq := reportQuery{From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), Train: strings.TrimSpace(q.Get("train"))}
	to := network.DateOf(c.now().In(shanghai))
	var err error
	if rq.To != "" {
		if to, err = network.ParseDate(rq.To); err != nil {
			return rq, governance.Window{}, err
		}
	}
	rq.To = to.String()
	from := to.AddDays(-(reportDays - 1))
	if rq.From != "" {
		if from, err = network.ParseDate(rq.From); err != nil {
			return rq, governance.Window{}, err
		}
	}
	rq.From = from.String()
	train, err := governance.ResolveTrain(ctx, c.deps.Catalog, rq.Train)
	if err != nil {
		return rq, governance.Window{}, err
	}
	w := governance.DatesWindow(from, to, train)
	return rq, w, governance.CheckWindow(w)
}

// query is the report's address query for the same window and train.
func (rq reportQuery) query() string {
	q := url.Values{"from": {rq.From}, "to": {rq.To}}
	if rq.Train != "" {
		q.Set("train", rq.Train)
	}
	return q.Encode()
}

// findingRow is a finding that counts passengers, formatted.
type findingRow struct {
	Key, Label, Definition, Of string
	Numerator, Denominator     int64
	Share                      string // "12.5%", or a dash when undefined
	Defined                    bool
}

// episodesRow is one group of F2 episodes, formatted.
type episodesRow struct {
	Key, Name         string
	Episodes          int64
	Median, Mean, P90 string // dashes when there is no episode
}

// f2View is finding F2, formatted.
type f2View struct {
	Label, Definition string
	Rows              []episodesRow
	Open              int64
}

// chartView is a chart's caption and its data as a table, for readers
// without the chart.
type chartView struct {
	ID, Title, Definition, Of string
	XName                     string
	Series                    []string
	Rows                      []chartRow
	Empty                     bool // every count is zero: the page says "no data" instead of drawing axes
}

// chartRow is one category of a chart's table: a count and share per series.
type chartRow struct {
	Label string
	Cells []string
}

// chartsData is the JSON the page embeds for static/governance_report.js.
type chartsData struct {
	Lang   string      `json:"lang"` // ZH or EN, the ECharts locale
	Charts []chartJSON `json:"charts"`
}

// chartJSON is one bar chart: a series of percentages per category, with
// the counts they are shares of for the tooltips.
type chartJSON struct {
	ID         string       `json:"id"`
	Title      string       `json:"title"`
	XName      string       `json:"xName"`
	YName      string       `json:"yName"`
	Categories []string     `json:"categories"`
	Series     []seriesJSON `json:"series"`
}

// seriesJSON is one series of a chart.
type seriesJSON struct {
	Name   string    `json:"name"`
	Data   []float64 `json:"data"`   // percentages, one decimal
	Counts []int64   `json:"counts"` // what each percentage counts
}

// govReportData is what the report page shows.
type govReportData struct {
	reportQuery
	Sub       govNav
	Err       *bilingual
	Ready     bool // the report was computed
	Scope     string
	Totals    []fact
	Findings  []findingRow
	F2        f2View
	Charts    []chartView
	ChartData chartsData
	CSVURL    string
}

// pct is a share as a percentage with one decimal, for the charts.
func pct(share float64) float64 { return math.Round(1000*share) / 10 }

// pick is a behaviour text in l.
func pick(t behaviour.Text, l lang) string { return l.Pick(bilingual{ZH: t.ZH, EN: t.EN}) }

// reportView formats a report for l.
func reportView(d *govReportData, rep behaviour.Report, l lang) {
	t := rep.Totals
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	d.Totals = []fact{
		{Label: l.T("gov.total.transactions"), Value: n(t.Transactions)},
		{Label: l.T("gov.total.passengers"), Value: n(t.Passengers)},
		{Label: l.T("gov.total.accounts"), Value: n(t.Accounts)},
		{Label: l.T("gov.total.paid"), Value: n(t.Paid)},
		{Label: l.T("gov.total.cancelled"), Value: n(t.Cancelled)},
		{Label: l.T("gov.total.expired"), Value: n(t.Expired)},
		{Label: l.T("gov.total.pending"), Value: n(t.Pending)},
	}
	if !t.FirstAt.IsZero() {
		d.Totals = append(d.Totals, fact{Label: l.T("gov.total.span"), Value: beijing(t.FirstAt) + " – " + beijing(t.LastAt)})
	}
	for _, s := range rep.Shares() {
		row := findingRow{Key: s.Key, Label: pick(s.Label, l), Definition: pick(s.Definition, l), Of: pick(s.Of, l),
			Numerator: s.Numerator, Denominator: s.Denominator, Share: l.T("none"), Defined: s.Defined}
		if s.Defined {
			row.Share = percent(s.Share, 1)
		}
		d.Findings = append(d.Findings, row)
	}

	f2 := rep.CancelsBefore
	d.F2 = f2View{Label: pick(f2.Label, l), Definition: pick(f2.Definition, l), Open: f2.Open}
	groups := []struct {
		key string
		e   behaviour.Episodes
	}{{"success", f2.Success}, {"gave_up", f2.GaveUp}}
	for _, g := range groups {
		row := episodesRow{Key: g.key, Name: l.T("gov.f2." + g.key), Episodes: g.e.Episodes,
			Median: l.T("none"), Mean: l.T("none"), P90: l.T("none")}
		if g.e.Defined {
			row.Median, row.Mean, row.P90 = strconv.FormatInt(g.e.Median, 10), strconv.FormatFloat(g.e.Mean, 'f', 2, 64), strconv.FormatInt(g.e.P90, 10)
		}
		d.F2.Rows = append(d.F2.Rows, row)
	}

	d.ChartData.Lang = "ZH"
	if l == en {
		d.ChartData.Lang = "EN"
	}
	// distribution charts a distribution of passengers.
	distribution := func(id string, dist behaviour.Distribution, xName string) {
		s := seriesJSON{Name: l.T("gov.chart.passengers")}
		cj := chartJSON{ID: id, Title: pick(dist.Label, l), XName: xName, YName: l.T("gov.chart.share_passengers")}
		cv := chartView{ID: id, Title: cj.Title, Definition: pick(dist.Definition, l), Of: l.Tf("gov.chart.of", pick(dist.Of, l), dist.Denominator),
			XName: xName, Series: []string{s.Name}}
		cv.Empty = true
		for _, b := range dist.Buckets {
			cv.Empty = cv.Empty && b.Count == 0
			cj.Categories = append(cj.Categories, pick(b.Label, l))
			s.Data, s.Counts = append(s.Data, pct(b.Share)), append(s.Counts, b.Count)
			cv.Rows = append(cv.Rows, chartRow{Label: pick(b.Label, l), Cells: []string{l.Tf("gov.chart.cell", b.Count, percent(b.Share, 1))}})
		}
		cj.Series = []seriesJSON{s}
		d.ChartData.Charts = append(d.ChartData.Charts, cj)
		d.Charts = append(d.Charts, cv)
	}
	distribution("chart-fig1", rep.PaidShare, l.T("gov.chart.paid_share"))

	// F2: the two histograms side by side, as shares of their groups.
	cj := chartJSON{ID: "chart-f2", Title: d.F2.Label, XName: l.T("gov.chart.cancels"), YName: l.T("gov.chart.share_episodes")}
	cv := chartView{ID: cj.ID, Title: cj.Title, Definition: l.T("gov.chart.f2_def"), XName: cj.XName, Empty: true}
	for gi, g := range groups {
		s := seriesJSON{Name: l.Tf("gov.chart.series", d.F2.Rows[gi].Name, g.e.Episodes)}
		cv.Series = append(cv.Series, s.Name)
		for i, b := range g.e.Histogram {
			if gi == 0 {
				cj.Categories = append(cj.Categories, b.Key)
				cv.Rows = append(cv.Rows, chartRow{Label: pick(b.Label, l)})
			}
			s.Data, s.Counts = append(s.Data, pct(b.Share)), append(s.Counts, b.Count)
			cv.Empty = cv.Empty && b.Count == 0
			if i < len(cv.Rows) {
				cv.Rows[i].Cells = append(cv.Rows[i].Cells, l.Tf("gov.chart.cell", b.Count, percent(b.Share, 1)))
			}
		}
		cj.Series = append(cj.Series, s)
	}
	d.ChartData.Charts = append(d.ChartData.Charts, cj)
	d.Charts = append(d.Charts, cv)

	distribution("chart-accounts", rep.Accounts, l.T("gov.chart.accounts"))
}

// govReport shows the behaviour report for the query's window and train.
func (c *Console) govReport(w http.ResponseWriter, r *http.Request, st *state) {
	ctx := r.Context()
	l := st.lang
	status := http.StatusOK
	rq, win, err := c.reportWindow(ctx, r.URL.Query())
	var rep behaviour.Report
	if err == nil {
		rep, err = c.deps.Governance.Report(ctx, win)
	}
	d := govReportData{Sub: subnav(govBase+"/report", l), reportQuery: rq}
	switch {
	case err == nil:
		d.Ready = true
		d.Scope = l.T("gov.report.network")
		if win.Train != "" {
			d.Scope = l.Tf("gov.report.train", win.Train)
		}
		d.CSVURL = govBase + "/report.csv?" + rq.query()
		reportView(&d, rep, l)
	case fault.CodeOf(err) == fault.Internal:
		c.internalError(w, r, st, err)
		return
	default:
		m := faultMsg(err)
		d.Err, status = &m, statusOf(err)
	}
	v := c.newView(r, st, "gov.report.title")
	if d.Ready {
		v.Scripts = []string{"/static/vendor/echarts/echarts.min.js", "/static/governance_report.js"}
	}
	v.Data = d
	c.render(w, r, status, "governance_report.html", v)
}

// govReportCSV downloads the behaviour report as CSV (behaviour.WriteCSV).
func (c *Console) govReportCSV(w http.ResponseWriter, r *http.Request, st *state) {
	ctx := r.Context()
	rq, win, err := c.reportWindow(ctx, r.URL.Query())
	var rep behaviour.Report
	if err == nil {
		rep, err = c.deps.Governance.Report(ctx, win)
	}
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	var buf bytes.Buffer
	if err := behaviour.WriteCSV(&buf, rep); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	name := "piao-behaviour-" + rq.From + "_" + rq.To
	if win.Train != "" {
		name += "-" + fileSafe(win.Train)
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + ".csv"}))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// fileSafe keeps letters, digits, '-' and '_' of s for a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return r
		}
		return '_'
	}, s)
}
