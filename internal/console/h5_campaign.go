package console

import (
	"net/http"
	"net/url"
	"strconv"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/tenant"
)

// The claim page of one campaign (SPEC V3): where a merchant's claim link
// and QR poster lead. Anyone may look; a passenger claims with the
// wallet's claim form (POST /h5/campaigns/{id}/claim, under the claim
// abuse limit); an anonymous visitor is sent to log in and back here.

// distributionPages are the passenger pages of distribution.
func (c *Console) distributionPages() []route {
	noBenefits := unless(c.deps.Benefits != nil, benefits.ErrNotRunning)
	return []route{
		{Page: Page{"GET", "/h5/campaigns/{id}", identity.Public}, handle: c.h5Campaign, identify: true, off: noBenefits},
	}
}

// claimPage is a campaign as its claim page shows it.
type claimPage struct {
	ID              int64
	Name            string
	Product         productView
	Theme           string
	Left, PerUser   int
	Starts, Ends    string
	CoverURL        string // the product's brand image, if it has one
	ClaimPath       string
	LoginPath       string
	Open, Passenger bool
	Anonymous       bool
	Closed          string // why it cannot be claimed now, if so
}

func (c *Console) h5Campaign(w http.ResponseWriter, r *http.Request, st *state) {
	notFound := func() {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(fault.New(fault.NotFound, "campaign_not_found", "活动不存在", "campaign not found")))
	}
	id, ok := orderID(r)
	if !ok {
		notFound()
		return
	}
	ctx, l, bn := r.Context(), st.lang, c.deps.Benefits
	// The page is public: every owner's campaign, as the wallet lists them.
	cp, err := bn.Campaign(ctx, tenant.All(), id)
	if fault.Is(err, fault.NotFound) {
		notFound()
		return
	} else if err != nil {
		c.fail(w, r, st, err)
		return
	}
	now := bn.Now()
	eff := cp.Effective(now)
	// Only reviewed campaigns that issue by claiming have a claim page.
	if !hasClaim(cp) || eff == benefits.Draft || eff == benefits.Submitted || eff == benefits.Rejected {
		notFound()
		return
	}
	p, err := bn.Product(ctx, tenant.All(), cp.ProductID)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	path := r.URL.Path
	d := claimPage{ID: cp.ID, Name: pickName(cp.NameZH, cp.NameEN, l), Product: formatProduct(p, l, c.placeNames(ctx, l)), Theme: p.Cover.Theme,
		Left: max(cp.Stock-cp.Issued, 0), PerUser: cp.PerUser, Starts: beijing(cp.Starts), Ends: beijing(cp.Ends),
		ClaimPath: path + "/claim", LoginPath: "/login?next=" + url.QueryEscape(path),
		Anonymous: st.principal.Anonymous(), Passenger: st.principal.Can(identity.WalletOwn)}
	// The brand image, if the merchant uploaded one, from its public route.
	if _, err := bn.Cover(ctx, p.ID); err == nil {
		d.CoverURL = "/api/v1/benefit-products/" + strconv.FormatInt(p.ID, 10) + "/cover"
	} else if !fault.Is(err, fault.NotFound) {
		c.fail(w, r, st, err)
		return
	}
	switch {
	case eff == benefits.Approved:
		d.Closed = l.T("claim.not_started")
	case eff == benefits.Paused:
		d.Closed = l.T("claim.paused")
	case eff == benefits.Ended || eff == benefits.Terminated:
		d.Closed = l.T("claim.over")
	case d.Left == 0:
		d.Closed = l.T("claim.sold_out")
	default:
		d.Open = true
	}
	v := c.newView(r, st, "claim.title")
	v.Data = d
	c.render(w, r, http.StatusOK, "h5_campaign.html", v)
}
