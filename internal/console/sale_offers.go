package console

import (
	"net/http"
	"piao/internal/ledger"
	"strconv"
	"strings"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/sale"
	"piao/internal/tenant"
)

// The operator's offers (SPEC B4): the tickets of its purchase-channel
// campaigns put on sale to passengers, with price, limits and refund rule,
// created, changed and stopped here (each change audited by the service).

func (c *Console) saleOfferRoutes() []route {
	off := unless(c.deps.Sales != nil && c.deps.Benefits != nil, sale.ErrNotRunning)
	return []route{
		{Page: Page{"GET", "/benefits/offers", identity.BenefitsRead}, handle: c.saleOffers, off: off},
		{Page: Page{"POST", "/benefits/offers", identity.BenefitsEdit}, handle: c.saleOfferCreate, off: off},
		{Page: Page{"POST", "/benefits/offers/{id}", identity.BenefitsEdit}, handle: c.saleOfferUpdate, off: off},
	}
}

// offerRow is an offer, formatted, with its settings as the edit form shows them.
type offerRow struct {
	ID                                    int64
	Name, Campaign, Price, Refund, Action string
	Bundle, PerOrder, PerPassenger, Days  string
	PriceYuan, FeeBP                      string
	OnSale                                bool
	Status                                string
}

type offersView struct {
	Offers    []offerRow
	Campaigns []option
	Form      offerRow
	CanEdit   bool
}

func (c *Console) saleOffers(w http.ResponseWriter, r *http.Request, st *state) {
	c.showOffers(w, r, st, http.StatusOK, nil, offerRow{Bundle: "1", PerOrder: "2", PerPassenger: "10", Days: "7", FeeBP: "500", OnSale: true})
}

func (c *Console) showOffers(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual, form offerRow) {
	ctx, l := r.Context(), st.lang
	os, err := c.deps.Sales.Offers(ctx, false)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	d := offersView{Form: form, CanEdit: st.principal.Can(identity.BenefitsEdit)}
	sold := map[int64]bool{}
	for _, o := range os {
		sold[o.CampaignID] = true
		row := offerRow{ID: o.ID, Name: pickName(o.NameZH, o.NameEN, l), Campaign: "#" + strconv.FormatInt(o.CampaignID, 10), Price: yuan(o.PriceFen),
			Bundle: strconv.Itoa(o.Bundle), PerOrder: strconv.Itoa(o.MaxPerOrder), PerPassenger: strconv.Itoa(o.MaxPerPassenger),
			Days: strconv.Itoa(o.Refund.Days), FeeBP: strconv.FormatInt(o.Refund.FeeBP, 10), PriceYuan: yuanNum(o.PriceFen), OnSale: o.OnSale,
			Action: "/benefits/offers/" + strconv.FormatInt(o.ID, 10)}
		row.Status = l.T("offer.off")
		if o.OnSale {
			row.Status = l.T("offer.on")
		}
		d.Offers = append(d.Offers, row)
	}
	cs, err := c.deps.Benefits.Campaigns(ctx, tenant.All(), benefits.CampaignFilter{Owner: "operator", Limit: 200})
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	for _, cp := range cs {
		if sold[cp.ID] || len(cp.Channels) != 1 || cp.Channels[0] != benefits.PurchaseChannel {
			continue
		}
		id := strconv.FormatInt(cp.ID, 10)
		d.Campaigns = append(d.Campaigns, option{id, "#" + id + " " + pickName(cp.NameZH, cp.NameEN, l), form.Campaign == id})
	}
	v := c.newView(r, st, "offer.title")
	v.Error = alert
	v.Data = d
	c.render(w, r, status, "sale_offers.html", v)
}

// yuanFen reads an amount in yuan ("12", "12.5", "12.50") as fen, in
// integers: no float on a money path.
func yuanFen(s, field string) (int64, error) {
	fen, err := ledger.ParseYuan(s)
	if err != nil || fen >= 10_000_000_00 {
		return 0, fault.Newf(fault.Invalid, "bad_amount", "%s 应为金额（元，最多两位小数）", "%s must be an amount in yuan with at most two decimals", field)
	}
	return fen, nil
}

// offerInput reads the offer form.
func offerInput(r *http.Request) (offerRow, sale.OfferInput, error) {
	f := offerRow{Campaign: r.PostFormValue("campaign"), PriceYuan: r.PostFormValue("price"), Bundle: r.PostFormValue("bundle"), PerOrder: r.PostFormValue("per_order"),
		PerPassenger: r.PostFormValue("per_passenger"), Days: r.PostFormValue("days"), FeeBP: r.PostFormValue("fee_bp"), OnSale: r.PostFormValue("on_sale") == "1"}
	in := sale.OfferInput{OnSale: f.OnSale}
	var err error
	first := func(e error) {
		if err == nil {
			err = e
		}
	}
	var e error
	in.CampaignID, _ = strconv.ParseInt(strings.TrimSpace(f.Campaign), 10, 64)
	in.PriceFen, e = yuanFen(f.PriceYuan, "售价 price")
	first(e)
	in.Bundle, e = intOf(f.Bundle, "每份张数 tickets a unit")
	first(e)
	in.MaxPerOrder, e = intOf(f.PerOrder, "每单限购 per order")
	first(e)
	in.MaxPerPassenger, e = intOf(f.PerPassenger, "每人限购 per passenger")
	first(e)
	in.Refund.Days, e = intOf(f.Days, "退款期限 refund days")
	first(e)
	fee, e := intOf(f.FeeBP, "手续费 fee")
	first(e)
	in.Refund.FeeBP = int64(fee)
	return f, in, err
}

func (c *Console) saleOfferCreate(w http.ResponseWriter, r *http.Request, st *state) {
	f, in, err := offerInput(r)
	if err == nil {
		_, err = c.deps.Sales.CreateOffer(r.Context(), in, actorOf(st))
	}
	if err != nil {
		c.offerFailed(w, r, st, err, f)
		return
	}
	http.Redirect(w, r, "/benefits/offers", http.StatusSeeOther)
}

func (c *Console) saleOfferUpdate(w http.ResponseWriter, r *http.Request, st *state) {
	id, perr := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if perr != nil || id <= 0 {
		c.fail(w, r, st, sale.ErrOfferNotFound)
		return
	}
	f, in, err := offerInput(r)
	if err == nil {
		_, err = c.deps.Sales.UpdateOffer(r.Context(), id, in, actorOf(st), strings.TrimSpace(r.PostFormValue("reason")))
	}
	if err != nil {
		c.offerFailed(w, r, st, err, f)
		return
	}
	http.Redirect(w, r, "/benefits/offers", http.StatusSeeOther)
}

func (c *Console) offerFailed(w http.ResponseWriter, r *http.Request, st *state, err error, f offerRow) {
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showOffers(w, r, st, statusOf(err), &m, f)
}
