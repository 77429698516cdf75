package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/sale"
	"piao/internal/tenant"
)

// The passenger's value-added tickets in the H5 pages (SPEC V3, V4, C3): the
// wallet, claiming from open campaigns, redeeming a code, and gifts.

func giftPath(token string) string { return "/h5/gifts/" + url.PathEscape(token) }

// walletTicket is one held ticket, formatted.
type walletTicket struct {
	ID           int64
	Name         string
	KindName     string
	Terms        string
	Status       benefits.WalletStatus
	StatusName   string
	Validity     string
	RidesLeft    int
	RidesTotal   int
	Instructions string
	Cover        string
	Theme        string
	Giftable     bool
	Code         string
	// Bought says what a bought ticket cost and what a refund gives now;
	// Refundable offers the refund.
	Bought     string
	Refundable bool
}

// openCampaign is a campaign the passenger may claim from.
type openCampaign struct {
	ID        int64
	Name      string
	Product   productView
	Left      int
	Ends      string
	ClaimPath string
}

// giftRow is a gift the passenger gave or received.
type giftRow struct {
	URL, Name, State, StateName, Expires string
	Given                                bool
}

type walletView struct {
	Tickets  []walletTicket
	Open     []openCampaign
	Gifts    []giftRow
	Code     string
	Notice   string
	CodeErr  *bilingual
	CanClaim bool
}

func (c *Console) h5Wallet(w http.ResponseWriter, r *http.Request, st *state) {
	c.showWallet(w, r, st, http.StatusOK, nil, "")
}

func (c *Console) showWallet(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual, code string) {
	ctx, l := r.Context(), st.lang
	me := st.principal.Account.ID
	entries, err := c.deps.Benefits.Wallet(ctx, me)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := walletView{Code: code}
	switch r.URL.Query().Get("done") {
	case "claimed", "redeemed", "accepted", "declined", "cancelled", "refunded":
		d.Notice = l.T("wallet.done." + r.URL.Query().Get("done"))
	}
	places := c.placeNames(ctx, l)
	var quotes map[int64]sale.Quote
	if c.deps.Sales != nil {
		if quotes, err = c.deps.Sales.Bought(ctx, me); err != nil {
			c.fail(w, r, st, err)
			return
		}
	}
	for _, e := range entries {
		p := formatProduct(e.Product, l, places)
		t := walletTicket{ID: e.Ticket.ID, Name: p.Name, KindName: p.KindName, Terms: p.Terms, Status: e.Status, StatusName: l.T("wallet.status." + string(e.Status)),
			Validity:  l.Tf("wallet.valid", beijing(e.Ticket.Window.From), beijing(e.Ticket.Window.Until.Add(-1))),
			RidesLeft: e.Ticket.RidesLeft, RidesTotal: e.Ticket.RidesTotal, Cover: e.Product.Cover.Text, Theme: e.Product.Cover.Theme,
			Instructions: pickName(e.Product.InstructionsZH, e.Product.InstructionsEN, l),
			Giftable:     (e.Status == benefits.Usable || e.Status == benefits.NotYet) && e.Ticket.RidesLeft == e.Ticket.RidesTotal}
		if e.Ticket.Window.From.IsZero() || e.Ticket.Window.From.Year() < 2000 {
			t.Validity = l.Tf("wallet.valid_until", beijing(e.Ticket.Window.Until.Add(-1)))
		}
		if t.Instructions == "" {
			t.Instructions = l.T("wallet.instructions")
		}
		if e.Ticket.Code != "" {
			t.Code = benefits.DisplayCode(e.Ticket.Code)
		}
		if q, ok := quotes[e.Ticket.ID]; ok {
			t.Bought, t.Refundable = boughtLine(q, l)
		}
		d.Tickets = append(d.Tickets, t)
	}
	bn := c.deps.Benefits
	cs, err := bn.Campaigns(ctx, tenant.All(), benefits.CampaignFilter{Statuses: []benefits.Status{benefits.Approved}, Limit: 200})
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	now := c.deps.Benefits.Now()
	for _, cp := range cs {
		if cp.Effective(now) != benefits.Active || cp.Issued >= cp.Stock || !hasClaim(cp) {
			continue
		}
		p, err := bn.Product(ctx, tenant.All(), cp.ProductID)
		if err != nil {
			c.fail(w, r, st, err)
			return
		}
		d.Open = append(d.Open, openCampaign{ID: cp.ID, Name: pickName(cp.NameZH, cp.NameEN, l), Product: formatProduct(p, l, places), Left: cp.Stock - cp.Issued,
			Ends: beijing(cp.Ends), ClaimPath: "/h5/campaigns/" + strconv.FormatInt(cp.ID, 10) + "/claim"})
	}
	gifts, err := bn.Gifts(ctx, me)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	for _, g := range gifts {
		row := giftRow{State: string(g.State), StateName: l.T("gift.state." + string(g.State)), Expires: beijing(g.Expires), Given: g.Giver == me}
		if row.Given {
			row.URL = giftPath(g.Token)
		}
		if t, err := bn.Ticket(ctx, g.TicketID); err == nil {
			if p, err := bn.Product(ctx, tenant.All(), t.ProductID); err == nil {
				row.Name = pickName(p.NameZH, p.NameEN, l)
			}
		}
		d.Gifts = append(d.Gifts, row)
	}
	v := c.newView(r, st, "wallet.title")
	if alert != nil {
		v.Error = alert
	}
	v.Data = d
	c.render(w, r, status, "h5_wallet.html", v)
}

func hasClaim(c benefits.Campaign) bool {
	for _, ch := range c.Channels {
		if ch == benefits.ClaimChannel {
			return true
		}
	}
	return false
}

// walletFailed shows the wallet with why an action was refused.
func (c *Console) walletFailed(w http.ResponseWriter, r *http.Request, st *state, err error, code string) {
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showWallet(w, r, st, statusOf(err), &m, code)
}

func (c *Console) h5Claim(w http.ResponseWriter, r *http.Request, st *state) {
	id, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "campaign_not_found", "活动不存在", "campaign not found")))
		return
	}
	if _, err := c.deps.Benefits.Claim(r.Context(), id, st.principal.Account.ID); err != nil {
		c.walletFailed(w, r, st, err, "")
		return
	}
	http.Redirect(w, r, "/h5/wallet?done=claimed", http.StatusSeeOther)
}

func (c *Console) h5Redeem(w http.ResponseWriter, r *http.Request, st *state) {
	code := strings.TrimSpace(r.PostFormValue("code"))
	if len(code) > 64 {
		code = code[:64]
	}
	if _, err := c.deps.Benefits.RedeemCode(r.Context(), code, st.principal.Account.ID); err != nil {
		c.walletFailed(w, r, st, err, code)
		return
	}
	http.Redirect(w, r, "/h5/wallet?done=redeemed", http.StatusSeeOther)
}

// giftForm is the form offering a ticket as a gift.
type giftForm struct {
	TicketID      int64
	Name          string
	Themes        []option
	Theme         string
	Text, Message string
	Action        string
}

func (c *Console) h5GiftForm(w http.ResponseWriter, r *http.Request, st *state) {
	c.showGiftForm(w, r, st, http.StatusOK, giftForm{Theme: ""}, nil)
}

func (c *Console) showGiftForm(w http.ResponseWriter, r *http.Request, st *state, status int, f giftForm, alert *bilingual) {
	id, ok := orderID(r)
	t, err := c.deps.Benefits.Ticket(r.Context(), id)
	if !ok || err != nil || t.Holder != st.principal.Account.ID {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "ticket_not_found", "票券不存在", "ticket not found")))
		return
	}
	p, err := c.deps.Benefits.Product(r.Context(), tenant.All(), t.ProductID)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	l := st.lang
	f.TicketID, f.Name, f.Action = id, pickName(p.NameZH, p.NameEN, l), "/h5/wallet/"+strconv.FormatInt(id, 10)+"/gift"
	theme := f.Theme
	if theme == "" {
		theme = p.Cover.Theme
	}
	f.Themes = []option{{"", l.T("bn.theme.none"), theme == ""}}
	for _, th := range benefits.Themes {
		f.Themes = append(f.Themes, option{th, l.T("bn.theme." + th), th == theme})
	}
	v := c.newViewBack(r, st, "gift.new", f.Action)
	v.Error = alert
	v.Data = f
	c.render(w, r, status, "h5_gift_new.html", v)
}

func (c *Console) h5Gift(w http.ResponseWriter, r *http.Request, st *state) {
	id, _ := orderID(r)
	f := giftForm{Theme: r.PostFormValue("theme"), Text: r.PostFormValue("cover_text"), Message: r.PostFormValue("message")}
	g, err := c.deps.Benefits.Gift(r.Context(), id, st.principal.Account.ID, benefits.Cover{Theme: f.Theme, Text: strings.TrimSpace(f.Text)}, f.Message)
	if err != nil {
		if fault.CodeOf(err) == fault.Internal {
			c.internalError(w, r, st, err)
			return
		}
		m := faultMsg(err)
		c.showGiftForm(w, r, st, statusOf(err), f, &m)
		return
	}
	http.Redirect(w, r, giftPath(g.Token), http.StatusSeeOther)
}

// giftPage is a gift as the giver or a receiver sees it.
type giftPage struct {
	Token, URL, Link  string
	Name, Terms, Kind string
	Validity          string
	Theme, ThemeName  string
	Text, Message     string
	State, StateName  string
	Expires           string
	Pending, Mine     bool
}

func (c *Console) h5GiftShow(w http.ResponseWriter, r *http.Request, st *state) {
	c.showGift(w, r, st, http.StatusOK, nil)
}

func (c *Console) showGift(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual) {
	token := strings.ToUpper(r.PathValue("token"))
	gv, err := c.deps.Benefits.GiftView(r.Context(), token)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	l := st.lang
	g, p := gv.Gift, formatProduct(gv.Product, l, c.placeNames(r.Context(), l))
	d := giftPage{Token: token, URL: giftPath(token), Name: p.Name, Terms: p.Terms, Kind: p.KindName, Validity: p.Validity,
		Theme: g.Cover.Theme, Text: g.Cover.Text, Message: g.Message, State: string(g.State), StateName: l.T("gift.state." + string(g.State)),
		Expires: beijing(g.Expires), Pending: g.State == benefits.GiftPending, Mine: g.Giver == st.principal.Account.ID}
	if d.Theme != "" {
		d.ThemeName = l.T("bn.theme." + d.Theme)
	}
	if d.Mine {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		d.Link = scheme + "://" + r.Host + d.URL
	}
	v := c.newView(r, st, "gift.title")
	v.Error = alert
	v.Data = d
	c.render(w, r, status, "h5_gift.html", v)
}

// h5GiftSettle accepts, declines or cancels the gift in the path.
func (c *Console) h5GiftSettle(to benefits.GiftState) func(http.ResponseWriter, *http.Request, *state) {
	done := map[benefits.GiftState]string{benefits.GiftAccepted: "accepted", benefits.GiftDeclined: "declined", benefits.GiftCancelled: "cancelled"}[to]
	return func(w http.ResponseWriter, r *http.Request, st *state) {
		if _, err := c.deps.Benefits.SettleGift(r.Context(), r.PathValue("token"), st.principal.Account.ID, to); err != nil {
			if fault.CodeOf(err) == fault.Internal {
				c.internalError(w, r, st, err)
				return
			}
			m := faultMsg(err)
			c.showGift(w, r, st, statusOf(err), &m)
			return
		}
		http.Redirect(w, r, "/h5/wallet?done="+done, http.StatusSeeOther)
	}
}
