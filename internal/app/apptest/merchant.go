package apptest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/identity"
	"piao/internal/merchant"
	"piao/internal/purchase"
	"piao/internal/tenant"
)

// MerchantFixture is one merchant's resources, made through the services
// as the merchant would: what the tenancy matrices (the API's and the
// console's) name in paths. The list and the purchase are made on first
// use, since not every test needs them.
type MerchantFixture struct {
	App      *app.App
	Merchant int64
	Scope    tenant.Scope
	Product  benefits.Product
	// Campaign is a draft prepaid campaign with stock bought, claimable
	// and by code, ready to submit.
	Campaign benefits.Campaign
	Batch    benefits.CodeBatch
	// Staff is a staff account of the merchant (granted nothing).
	Staff identity.Account
	// Marker is a token in the names of the merchant's rows (product,
	// campaign, staff, list note), found in no other merchant's: an answer
	// carrying it shows this merchant's data.
	Marker string

	mu             sync.Mutex
	list, purchase int64
}

// NewMerchantFixture makes merchant m's product from tpl, a campaign of it
// with 10 tickets bought, a batch of 2 codes and a staff account.
func NewMerchantFixture(tb testing.TB, a *app.App, m int64, tpl benefits.Template) *MerchantFixture {
	tb.Helper()
	ctx, scope := context.Background(), tenant.Merchant(m)
	f := &MerchantFixture{App: a, Merchant: m, Scope: scope, Marker: fmt.Sprintf("TENANCY-M%d-7f3a", m)}
	actor := fmt.Sprintf("merchant-%d-admin", m)
	var err error
	f.Product, err = a.Benefits.CreateMerchantProduct(ctx, scope, tpl.ID, benefits.Product{NameZH: fmt.Sprintf("商户%d单程票 %s", m, f.Marker), Feed: "nbmetro",
		Valid: benefits.Validity{Days: 30}}, actor)
	if err != nil {
		tb.Fatal(err)
	}
	now := a.Benefits.Now()
	f.Campaign, err = a.Benefits.CreateCampaign(ctx, scope, benefits.Campaign{ProductID: f.Product.ID, NameZH: fmt.Sprintf("商户%d活动 %s", m, f.Marker),
		Starts: now.Add(-time.Hour), Ends: now.Add(7 * 24 * time.Hour), Channels: []benefits.Channel{benefits.ClaimChannel, benefits.CodeChannel}}, "", actor)
	if err != nil {
		tb.Fatal(err)
	}
	if f.Campaign, err = a.Benefits.AddStock(ctx, scope, f.Campaign.ID, fmt.Sprintf("fixture-%d-%d", m, f.Campaign.ID), 10, 10*tpl.UnitPrice); err != nil {
		tb.Fatal(err)
	}
	if f.Batch, err = a.Benefits.GenerateCodes(ctx, scope, f.Campaign.ID, 2, actor); err != nil {
		tb.Fatal(err)
	}
	if f.Staff, err = a.Identity.CreateAccount(ctx, identity.NewAccount{Username: fmt.Sprintf("m%d-fixture-staff-%d", m, f.Campaign.ID), DisplayName: "员工 " + f.Marker, Role: identity.MerchantStaff,
		Password: "fixture-password", Merchant: m, Grants: []identity.Permission{}}); err != nil {
		tb.Fatal(err)
	}
	return f
}

// FixtureListLine is the line of a fixture's list that names a passenger.
const FixtureListLine = 2

// List returns a distribution list of f's merchant for its campaign, with
// one line (FixtureListLine) naming a passenger, made on first use. It is
// stored directly: the fixture's campaign is a draft, which the service
// would not issue from.
func (f *MerchantFixture) List(tb testing.TB) int64 {
	tb.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.list != 0 {
		return f.list
	}
	ctx := context.Background()
	a, err := f.App.Identity.CreateAccount(ctx, identity.NewAccount{Username: fmt.Sprintf("list-rider-%d-%d", f.Merchant, time.Now().UnixNano()), Role: identity.Passenger, Password: "fixture-password"})
	if err != nil {
		tb.Fatal(err)
	}
	l := distribution.List{MerchantID: f.Merchant, CampaignID: f.Campaign.ID, Kind: distribution.ByAccount, UploadedBy: "fixture", UploadedAt: time.Now()}
	if err := f.App.DistributionStore.CreateList(ctx, &l, []distribution.Entry{{Line: FixtureListLine, Account: a.ID, Note: f.Marker}}); err != nil {
		tb.Fatal(err)
	}
	f.list = l.ID
	return l.ID
}

// Purchase returns a purchase of one ticket for f's campaign, ordered by
// account 1 and made on first use (pending: the gateway is not paid).
func (f *MerchantFixture) Purchase(tb testing.TB) int64 {
	tb.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.purchase != 0 {
		return f.purchase
	}
	p, err := f.App.Purchases.Create(context.Background(), f.Scope, 1, purchase.Order{CampaignID: f.Campaign.ID, Tickets: 1})
	if err != nil {
		tb.Fatal(err)
	}
	f.purchase = p.ID
	return p.ID
}

// OnboardedMerchant applies as a merchant with the credit code and admin
// login name, and approves it: a merchant whose record exists, as the
// onboarding pages and routes need. It returns the merchant's ID.
func OnboardedMerchant(tb testing.TB, a *app.App, code, admin string) int64 {
	tb.Helper()
	ctx := context.Background()
	r, err := a.Merchants.Apply(ctx, merchant.Application{LegalName: admin + " 有限公司", CreditCode: code, Contact: merchant.Contact{Name: "联系人", Phone: "13900000000"},
		AdminUsername: admin, AdminPassword: "fixture-password", Papers: []merchant.Upload{{Kind: merchant.Licence, Name: "licence.png", Data: PNG(tb)}}})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := a.Merchants.Review(ctx, tenant.All(), r.Merchant.ID, merchant.Approve, ""); err != nil {
		tb.Fatal(err)
	}
	return r.Merchant.ID
}

// PNG is a small valid PNG image.
func PNG(tb testing.TB) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}
