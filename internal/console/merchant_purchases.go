package console

import (
	"net/http"
	"strconv"
	"strings"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/purchase"
)

// The merchant's purchases (批量采购, SPEC B2): stock bought for its
// prepaid campaigns through the payment gateway, and the refund of what a
// finished campaign left unused. Every read and change goes through
// purchase.Service with the account's scope.

// merchantPurchaseRoutes are the purchase pages, all merchant:finance.
func (c *Console) merchantPurchaseRoutes() []route {
	off := unless(c.deps.Purchases != nil && c.deps.Benefits != nil, purchase.ErrNotRunning)
	return []route{
		{Page: Page{"GET", merchantHome + "/purchases", identity.MerchantFinance}, handle: c.merchantPurchases, off: off},
		{Page: Page{"POST", merchantHome + "/purchases", identity.MerchantFinance}, handle: c.merchantBuy, off: off},
		{Page: Page{"GET", merchantHome + "/purchases/{id}", identity.MerchantFinance}, handle: c.merchantPurchase, off: off},
		{Page: Page{"GET", merchantHome + "/refunds/{id}", identity.MerchantFinance}, handle: c.merchantRefundPage, off: off},
		{Page: Page{"POST", merchantHome + "/refunds/{id}", identity.MerchantFinance}, handle: c.merchantRefund, off: off},
	}
}

func merchantPurchasePath(id int64) string {
	return merchantHome + "/purchases/" + strconv.FormatInt(id, 10)
}

func merchantRefundPath(campaign int64) string {
	return merchantHome + "/refunds/" + strconv.FormatInt(campaign, 10)
}

// purchaseRow is one purchase, formatted.
type purchaseRow struct {
	ID                 int64
	URL                string
	Campaign           string
	CampaignURL        string
	Tickets            int
	Value, Unit, Total string
	Status, StatusName string
	Closed             string
	At, Expires, Paid  string
	PayURL             string
}

// purchaseCampaign is a campaign stock may be bought for, in the form.
type purchaseCampaign struct {
	option
	// Price is the fen per ticket, 0 for a campaign prepaid by value.
	Price     string
	ByValue   bool
	RefundURL string
	Status    string
}

// merchantPurchasesPage is the purchases page.
type merchantPurchasesPage struct {
	Purchases []purchaseRow
	Campaigns []purchaseCampaign
	Refunds   []purchaseCampaign // finished campaigns, with their refund page
	Campaign  string             // the form's values
	Tickets   string
	Value     string
	Limits    purchase.Limits
	MaxAmount string
}

// merchantPurchasesLimit bounds the purchases the page lists, newest first.
const merchantPurchasesLimit = 200

// purchaseRowOf formats a purchase with its campaign's name.
func purchaseRowOf(p purchase.Purchase, names map[int64]string, l lang) purchaseRow {
	row := purchaseRow{ID: p.ID, URL: merchantPurchasePath(p.ID), Campaign: names[p.CampaignID], CampaignURL: merchantCampaignPath(p.CampaignID),
		Tickets: p.Tickets, Value: yuan(p.ValueFen), Unit: yuan(p.UnitPriceFen), Total: yuan(p.AmountFen), Status: string(p.Status),
		StatusName: l.T(purchaseStatusKeys[p.Status]), At: beijing(p.CreatedAt), Expires: beijing(p.ExpiresAt)}
	if row.Campaign == "" {
		row.Campaign = "#" + strconv.FormatInt(p.CampaignID, 10)
	}
	if !p.PaidAt.IsZero() {
		row.Paid = beijing(p.PaidAt)
	}
	if p.Status == purchase.Closed {
		row.Closed = closeReasonText(p.CloseReason, l)
	}
	if p.Status == purchase.Pending {
		row.PayURL = p.PayURL
	}
	return row
}

// purchaseStatusKeys and refundStatusKeys name the states in the catalog.
var (
	purchaseStatusKeys = map[purchase.Status]string{purchase.Pending: "mp.status.pending", purchase.Paid: "mp.status.paid", purchase.Closed: "mp.status.closed"}
	refundStatusKeys   = map[purchase.RefundStatus]string{purchase.RefundPending: "mp.refund.pending", purchase.RefundDone: "mp.refund.refunded"}
)

// closeReasonText names why a purchase closed.
func closeReasonText(reason string, l lang) string {
	switch reason {
	case purchase.ClosedExpired:
		return l.T("mp.closed.expired")
	case purchase.ClosedCampaignOver:
		return l.T("mp.closed.campaign_over")
	case purchase.ClosedNoPayment:
		return l.T("mp.closed.payment_unavailable")
	}
	return reason
}

func (c *Console) merchantPurchases(w http.ResponseWriter, r *http.Request, st *state) {
	c.showMerchantPurchases(w, r, st, http.StatusOK, merchantPurchasesPage{Campaign: r.URL.Query().Get("campaign")}, nil)
}

func (c *Console) showMerchantPurchases(w http.ResponseWriter, r *http.Request, st *state, status int, d merchantPurchasesPage, e *bilingual) {
	ctx, l, scope := r.Context(), st.lang, st.principal.Tenant()
	cs, names, err := c.merchantCampaignNames(ctx, scope, l)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	ps, err := c.deps.Purchases.Purchases(ctx, scope, purchase.Filter{Limit: merchantPurchasesLimit})
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	for _, p := range ps {
		d.Purchases = append(d.Purchases, purchaseRowOf(p, names, l))
	}
	now := c.deps.Benefits.Now()
	for _, cp := range cs {
		if !cp.Prepaid {
			continue
		}
		eff := cp.Effective(now)
		id := strconv.FormatInt(cp.ID, 10)
		pc := purchaseCampaign{option: option{id, "#" + id + " " + names[cp.ID], d.Campaign == id}, RefundURL: merchantRefundPath(cp.ID),
			Status: l.T("bn.status." + string(eff))}
		price, err := c.deps.Benefits.UnitPrice(ctx, scope, cp.ID)
		if err != nil {
			c.fail(w, r, st, err)
			return
		}
		if price > 0 {
			pc.Price = l.Tf("mp.per_ticket", yuan(price))
		} else {
			pc.Price, pc.ByValue = l.T("mp.by_value"), true
		}
		if eff == benefits.Ended || eff == benefits.Terminated {
			d.Refunds = append(d.Refunds, pc)
			continue
		}
		if eff != benefits.Rejected {
			d.Campaigns = append(d.Campaigns, pc)
		}
	}
	d.Limits = c.deps.Purchases.Limits()
	d.MaxAmount = yuan(d.Limits.MaxAmountFen)
	v := c.newViewBack(r, st, "mp.title", merchantHome+"/purchases")
	v.Error = e
	v.Data = d
	c.render(w, r, status, "merchant_purchases.html", v)
}

// merchantBuy orders stock and sends the buyer to the payment page.
func (c *Console) merchantBuy(w http.ResponseWriter, r *http.Request, st *state) {
	d := merchantPurchasesPage{Campaign: r.PostFormValue("campaign"), Tickets: r.PostFormValue("tickets"), Value: r.PostFormValue("value")}
	o := purchase.Order{}
	var err error
	if o.CampaignID, err = strconv.ParseInt(strings.TrimSpace(d.Campaign), 10, 64); err != nil || o.CampaignID <= 0 {
		err = fault.New(fault.Invalid, "purchase_campaign_required", "请选择活动", "choose a campaign")
	}
	if err == nil {
		o.Tickets, err = intOf(d.Tickets, "张数 tickets")
	}
	if err == nil {
		o.ValueFen, err = fenOf(d.Value, "金额 value")
	}
	if err == nil {
		var p purchase.Purchase
		p, err = c.deps.Purchases.Create(r.Context(), st.principal.Tenant(), st.principal.Account.ID, o)
		if err == nil {
			to := p.PayURL
			if to == "" {
				to = merchantPurchasePath(p.ID)
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
	}
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showMerchantPurchases(w, r, st, statusOf(err), d, &m)
}

// merchantPurchasePage is one purchase.
type merchantPurchasePage struct {
	purchaseRow
	Refunded string
}

// purchaseRefresh is how often a pending purchase's page reloads itself
// while the gateway's word is awaited.
const purchaseRefresh = 3

// merchantPurchase shows a purchase; the payment page sends the buyer here.
func (c *Console) merchantPurchase(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(purchase.ErrNotFound))
		return
	}
	ctx, l, scope := r.Context(), st.lang, st.principal.Tenant()
	p, err := c.deps.Purchases.Purchase(ctx, scope, id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	names := map[int64]string{}
	if cp, err := c.deps.Benefits.Campaign(ctx, scope, p.CampaignID); err == nil {
		names[cp.ID] = pickName(cp.NameZH, cp.NameEN, l)
	} else if fault.CodeOf(err) != fault.NotFound {
		c.fail(w, r, st, err)
		return
	}
	d := merchantPurchasePage{purchaseRow: purchaseRowOf(p, names, l)}
	if p.RefundedFen > 0 {
		d.Refunded = yuan(p.RefundedFen)
	}
	v := c.newView(r, st, "mp.purchase.title")
	if p.Status == purchase.Pending {
		v.Refresh = purchaseRefresh
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "merchant_purchase.html", v)
}

// merchantRefundView is a campaign's refund: its preview, or the refund.
type merchantRefundView struct {
	CampaignID                 int64
	URL, Campaign, CampaignURL string
	Unused, Paid, Fee, Refund  string
	Opens, Closes              string
	Open                       bool
	Reason                     string
	Done                       *refundView
}

// refundView is a refund made.
type refundView struct {
	Status, StatusName, Refunded, At string
}

func (c *Console) merchantRefundPage(w http.ResponseWriter, r *http.Request, st *state) {
	c.showMerchantRefund(w, r, st, http.StatusOK, nil)
}

func (c *Console) showMerchantRefund(w http.ResponseWriter, r *http.Request, st *state, status int, e *bilingual) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "campaign_not_found", "活动不存在", "campaign not found")))
		return
	}
	ctx, l, scope := r.Context(), st.lang, st.principal.Tenant()
	cp, err := c.deps.Benefits.Campaign(ctx, scope, id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	pv, err := c.deps.Purchases.RefundPreview(ctx, scope, id)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := merchantRefundView{CampaignID: id, URL: merchantRefundPath(id), Campaign: pickName(cp.NameZH, cp.NameEN, l), CampaignURL: merchantCampaignPath(id),
		Unused: yuan(pv.UnusedFen), Paid: yuan(pv.PaidFen), Fee: yuan(pv.FeeFen), Refund: yuan(pv.RefundFen),
		Opens: beijing(pv.Window.Opens), Closes: beijing(pv.Window.Closes), Open: pv.Open}
	if !pv.Open && pv.Refund == nil {
		d.Reason = refundReasonText(pv.Reason, l)
	}
	if rf := pv.Refund; rf != nil {
		d.Done = &refundView{Status: string(rf.Status), StatusName: l.T(refundStatusKeys[rf.Status]), Refunded: yuan(rf.RefundedFen), At: beijing(rf.CreatedAt)}
	}
	v := c.newViewBack(r, st, "mp.refund.title", d.URL)
	v.Error = e
	v.Data = d
	c.render(w, r, status, "merchant_refund.html", v)
}

// refundReasonText says why a refund may not be asked for now.
func refundReasonText(reason string, l lang) string {
	switch reason {
	case "campaign_not_over":
		return l.T("mp.refund.not_over")
	case "refund_not_open":
		return l.T("mp.refund.not_open")
	case "refund_window_closed":
		return l.T("mp.refund.closed")
	case "refund_purchase_pending":
		return l.T("mp.refund.purchase_pending")
	}
	return l.T("mp.refund.not_now")
}

// merchantRefund asks for the refund of a finished campaign's unused value.
func (c *Console) merchantRefund(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "campaign_not_found", "活动不存在", "campaign not found")))
		return
	}
	if _, err := c.deps.Purchases.RefundUnused(r.Context(), st.principal.Tenant(), id, st.principal.Account.ID); err != nil {
		if code := fault.CodeOf(err); code == fault.Internal || code == fault.NotFound {
			c.fail(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showMerchantRefund(w, r, st, statusOf(err), &m)
		return
	}
	http.Redirect(w, r, merchantRefundPath(id), http.StatusSeeOther)
}
