package console

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/skip2/go-qrcode"

	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/fault"
	"piao/internal/identity"
)

// The merchant's distribution (发放, SPEC B2, V3): lists of recipients
// uploaded as CSV, redemption code batches, the claim link and its QR
// poster, and revocation of what was not delivered. Everything goes
// through distribution.Service with the account's scope.

// merchantDistributionRoutes are the distribution pages, all
// merchant:distribution.
func (c *Console) merchantDistributionRoutes() []route {
	off := unless(c.deps.Distribution != nil && c.deps.Benefits != nil, distribution.ErrNotRunning)
	const base = merchantHome + "/distribution"
	perm := identity.MerchantDistribution
	return []route{
		{Page: Page{"GET", base, perm}, handle: c.merchantDistribution, off: off},
		{Page: Page{"POST", base + "/lists", perm}, handle: c.merchantUploadList, off: off},
		{Page: Page{"GET", base + "/lists/{id}", perm}, handle: c.merchantList, off: off},
		{Page: Page{"POST", base + "/lists/{id}/revoke", perm}, handle: c.merchantRevokeList, off: off},
		{Page: Page{"POST", base + "/lists/{id}/entries/{line}/revoke", perm}, handle: c.merchantRevokeList, off: off},
		{Page: Page{"POST", base + "/campaigns/{id}/codes", perm}, handle: c.merchantCodes, off: off},
		{Page: Page{"GET", base + "/code-batches/{id}/codes.csv", perm}, handle: c.merchantCodesCSV, off: off},
		{Page: Page{"POST", base + "/code-batches/{id}/revoke", perm}, handle: c.merchantRevokeCodes, off: off},
		{Page: Page{"GET", base + "/campaigns/{id}/poster", perm}, handle: c.merchantPoster, off: off},
	}
}

const merchantDistributionPath = merchantHome + "/distribution"

func merchantListPath(id int64) string {
	return merchantDistributionPath + "/lists/" + strconv.FormatInt(id, 10)
}

// distCampaign is one campaign on the distribution page.
type distCampaign struct {
	ID                  int64
	Name, Status        string
	StatusName          string
	Claim, Code, Direct bool
	ClaimURL, PosterURL string
	CodesURL            string
	Batches             []distBatch
}

// distBatch is a code batch, formatted.
type distBatch struct {
	ID, Count, Redeemed, Revoked int
	At, CSV, Revoke              string
	CanRevoke                    bool
}

// distList is a list, formatted.
type distList struct {
	ID                                int64
	URL, Campaign, Kind, At, By       string
	Entries, Issued, Refused, Revoked int
}

// merchantDistributionPage is the distribution page.
type merchantDistributionPage struct {
	Campaigns  []distCampaign
	Direct     []option // campaigns a list may be uploaded for
	Lists      []distList
	LineErrors []string
	MoreErrors int
	MaxRows    int
	// Voided, after voiding a batch (Void set), is how many codes it voided.
	Voided int
	Void   bool
}

func (c *Console) merchantDistribution(w http.ResponseWriter, r *http.Request, st *state) {
	c.showMerchantDistribution(w, r, st, http.StatusOK, merchantDistributionPage{}, nil)
}

// publicBase is the console's address for absolute links (claim links on
// posters): the configured public URL, else the request's own.
func (c *Console) publicBase(r *http.Request) string {
	if c.deps.PublicURL != "" {
		return strings.TrimSuffix(c.deps.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (c *Console) showMerchantDistribution(w http.ResponseWriter, r *http.Request, st *state, status int, d merchantDistributionPage, e *bilingual) {
	ctx, l, scope := r.Context(), st.lang, st.principal.Tenant()
	cs, names, err := c.merchantCampaignNames(ctx, scope, l)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	now := c.deps.Benefits.Now()
	for _, cp := range cs {
		if cp.Automatic() {
			continue
		}
		eff := cp.Effective(now)
		dc := distCampaign{ID: cp.ID, Name: names[cp.ID], Status: string(eff), StatusName: l.T("bn.status." + string(eff))}
		for _, ch := range cp.Channels {
			dc.Claim = dc.Claim || ch == benefits.ClaimChannel
			dc.Code = dc.Code || ch == benefits.CodeChannel
			dc.Direct = dc.Direct || ch == benefits.DirectChannel
		}
		id := strconv.FormatInt(cp.ID, 10)
		if dc.Claim {
			dc.ClaimURL = c.publicBase(r) + distribution.ClaimPath(cp.ID)
			dc.PosterURL = merchantDistributionPath + "/campaigns/" + id + "/poster"
		}
		if dc.Code {
			dc.CodesURL = merchantDistributionPath + "/campaigns/" + id + "/codes"
			bs, err := c.deps.Distribution.CodeBatches(ctx, scope, cp.ID)
			if err != nil {
				c.fail(w, r, st, err)
				return
			}
			for _, b := range bs {
				bid := strconv.FormatInt(b.ID, 10)
				dc.Batches = append(dc.Batches, distBatch{ID: int(b.ID), Count: b.Count, Redeemed: b.Redeemed, Revoked: b.Revoked, At: beijing(b.CreatedAt),
					CSV: merchantDistributionPath + "/code-batches/" + bid + "/codes.csv", Revoke: merchantDistributionPath + "/code-batches/" + bid + "/revoke",
					CanRevoke: b.Redeemed+b.Revoked < b.Count})
			}
		}
		if dc.Direct {
			d.Direct = append(d.Direct, option{id, "#" + id + " " + dc.Name, r.PostFormValue("campaign") == id})
		}
		d.Campaigns = append(d.Campaigns, dc)
	}
	ls, err := c.deps.Distribution.Lists(ctx, scope, 0)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	for _, li := range ls {
		d.Lists = append(d.Lists, distListOf(li, names, l))
	}
	d.MaxRows = distribution.MaxRows
	v := c.newViewBack(r, st, "md.title", merchantDistributionPath)
	v.Error = e
	v.Data = d
	c.render(w, r, status, "merchant_distribution.html", v)
}

func distListOf(li distribution.List, names map[int64]string, l lang) distList {
	kind := l.T("md.kind.account")
	if li.Kind == distribution.ByPhone {
		kind = l.T("md.kind.phone")
	}
	return distList{ID: li.ID, URL: merchantListPath(li.ID), Campaign: names[li.CampaignID], Kind: kind, At: beijing(li.UploadedAt), By: li.UploadedBy,
		Entries: li.Entries, Issued: li.Issued, Refused: li.Refused, Revoked: li.Revoked}
}

// merchantUploadList issues a campaign's tickets to the lines of an
// uploaded CSV list; a bad list is refused whole, its errors by line and
// column shown.
func (c *Console) merchantUploadList(w http.ResponseWriter, r *http.Request, st *state) {
	if err := r.ParseMultipartForm(distribution.MaxBytes); err != nil {
		c.renderError(w, r, st, http.StatusBadRequest, faultMsg(fault.New(fault.Invalid, "bad_form", "表单无法读取", "the form could not be read")))
		return
	}
	var d merchantDistributionPage
	id, err := strconv.ParseInt(r.PostFormValue("campaign"), 10, 64)
	if err != nil || id <= 0 {
		err = fault.New(fault.Invalid, "campaign_required", "请选择活动", "choose a campaign")
	}
	var data []byte
	if err == nil {
		file, _, ferr := r.FormFile("list")
		if ferr != nil {
			err = fault.New(fault.Invalid, "list_required", "请选择名单文件（CSV）", "choose the list file (CSV)")
		} else {
			defer file.Close()
			data, err = io.ReadAll(io.LimitReader(file, distribution.MaxBytes+1))
			if err != nil {
				err = fault.Wrap(err, "read list")
			}
		}
	}
	if err == nil {
		var li distribution.List
		li, _, err = c.deps.Distribution.Upload(r.Context(), st.principal.Tenant(), id, data, consoleActor(st))
		if err == nil {
			http.Redirect(w, r, merchantListPath(li.ID), http.StatusSeeOther)
			return
		}
	}
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	var re *distribution.RosterError
	if errors.As(err, &re) {
		for _, le := range re.Lines {
			d.LineErrors = append(d.LineErrors, le.Message())
		}
		d.MoreErrors = re.Total - len(re.Lines)
	}
	m := faultMsg(err)
	c.showMerchantDistribution(w, r, st, statusOf(err), d, &m)
}

// merchantListPage is one list with its lines.
type merchantListPage struct {
	distList
	Lines      []distEntry
	CanRevoke  bool
	Revocation *distribution.Revocation
}

// distEntry is one line of a list, phones masked.
type distEntry struct {
	Line                        int
	Recipient, Note, Outcome    string
	Ticket                      int64
	Revoked, CanRevoke, Refused bool
	RevokeURL                   string
}

// maskPhone shows a mobile number as 138****5678.
func maskPhone(p string) string {
	if len(p) < 8 {
		return strings.Repeat("*", len(p))
	}
	return p[:3] + "****" + p[len(p)-4:]
}

func (c *Console) merchantList(w http.ResponseWriter, r *http.Request, st *state) {
	c.showMerchantList(w, r, st, http.StatusOK, nil, nil)
}

func (c *Console) showMerchantList(w http.ResponseWriter, r *http.Request, st *state, status int, rev *distribution.Revocation, e *bilingual) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "list_not_found", "名单不存在", "list not found")))
		return
	}
	ctx, l, scope := r.Context(), st.lang, st.principal.Tenant()
	li, entries, err := c.deps.Distribution.List(ctx, scope, id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	_, names, err := c.merchantCampaignNames(ctx, scope, l)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := merchantListPage{distList: distListOf(li, names, l), Revocation: rev}
	for _, en := range entries {
		row := distEntry{Line: en.Line, Note: en.Note, Ticket: en.TicketID, Revoked: !en.RevokedAt.IsZero()}
		if en.Phone != "" {
			row.Recipient = maskPhone(en.Phone)
		} else {
			row.Recipient = "#" + strconv.FormatInt(en.Account, 10)
		}
		switch {
		case row.Revoked:
			row.Outcome = l.T("md.outcome.revoked")
		case en.TicketID != 0:
			row.Outcome = l.T("md.outcome.issued")
			row.CanRevoke = true
			row.RevokeURL = fmt.Sprintf("%s/entries/%d/revoke", d.URL, en.Line)
			d.CanRevoke = true
		default:
			row.Refused = true
			row.Outcome = l.T("md.outcome.refused")
			if en.Message != "" {
				row.Outcome += "：" + en.Message
			}
		}
		d.Lines = append(d.Lines, row)
	}
	v := c.newViewBack(r, st, "md.list.title", d.URL)
	v.Error = e
	v.Data = d
	c.render(w, r, status, "merchant_list.html", v)
}

// merchantRevokeList takes back the undelivered tickets of a list, or of
// one of its lines.
func (c *Console) merchantRevokeList(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	line := 0
	if s := r.PathValue("line"); s != "" {
		n, err := strconv.Atoi(s)
		ok = ok && err == nil && n > 0
		line = n
	}
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "list_not_found", "名单不存在", "list not found")))
		return
	}
	rev, err := c.deps.Distribution.RevokeList(r.Context(), st.principal.Tenant(), id, line, consoleActor(st), strings.TrimSpace(r.PostFormValue("reason")))
	if err != nil {
		if code := fault.CodeOf(err); code == fault.Internal || code == fault.NotFound {
			c.fail(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showMerchantList(w, r, st, statusOf(err), nil, &m)
		return
	}
	c.showMerchantList(w, r, st, http.StatusOK, &rev, nil)
}

// merchantCodes generates a batch of redemption codes.
func (c *Console) merchantCodes(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(distribution.ErrCampaignNotFound))
		return
	}
	n, err := intOf(r.PostFormValue("count"), "数量 count")
	if err == nil {
		_, err = c.deps.Distribution.GenerateCodes(r.Context(), st.principal.Tenant(), id, n, consoleActor(st))
	}
	if err != nil {
		if code := fault.CodeOf(err); code == fault.Internal || code == fault.NotFound {
			c.fail(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showMerchantDistribution(w, r, st, statusOf(err), merchantDistributionPage{}, &m)
		return
	}
	http.Redirect(w, r, merchantDistributionPath+"#campaign-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// merchantCodesCSV exports a batch's codes.
func (c *Console) merchantCodesCSV(w http.ResponseWriter, r *http.Request, st *state) {
	c.writeCodesCSV(w, r, st, c.deps.Distribution.Codes)
}

// merchantRevokeCodes voids a batch's codes not yet redeemed.
func (c *Console) merchantRevokeCodes(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "batch_not_found", "兑换码批次不存在", "code batch not found")))
		return
	}
	_, n, err := c.deps.Distribution.RevokeCodes(r.Context(), st.principal.Tenant(), id, consoleActor(st), strings.TrimSpace(r.PostFormValue("reason")))
	if err != nil {
		if code := fault.CodeOf(err); code == fault.Internal || code == fault.NotFound {
			c.fail(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showMerchantDistribution(w, r, st, statusOf(err), merchantDistributionPage{}, &m)
		return
	}
	c.showMerchantDistribution(w, r, st, http.StatusOK, merchantDistributionPage{Voided: n, Void: true}, nil)
}

// posterPage is a printable claim poster.
type posterPage struct {
	Campaign, Product, Terms, Validity string
	Link                               string
	QR                                 template.URL
	Back                               string
}

// merchantPoster renders a campaign's claim poster: its QR code, holding
// the claim link, to print.
func (c *Console) merchantPoster(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(distribution.ErrCampaignNotFound))
		return
	}
	ctx, l, scope := r.Context(), st.lang, st.principal.Tenant()
	cp, err := c.deps.Distribution.ClaimCampaign(ctx, scope, id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	p, err := c.deps.Benefits.Product(ctx, scope, cp.ProductID)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	link := c.publicBase(r) + distribution.ClaimPath(id)
	png, err := qrcode.Encode(link, qrcode.Medium, 512)
	if err != nil {
		c.internalError(w, r, st, fault.Wrap(err, "draw poster"))
		return
	}
	pv := formatProduct(p, l, c.placeNames(ctx, l))
	d := posterPage{Campaign: pickName(cp.NameZH, cp.NameEN, l), Product: pv.Name, Terms: pv.Terms, Validity: pv.Validity, Link: link,
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), Back: merchantDistributionPath}
	v := c.newView(r, st, "md.poster.title")
	v.Data = d
	c.render(w, r, http.StatusOK, "merchant_poster.html", v)
}
