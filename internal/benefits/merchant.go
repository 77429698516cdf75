package benefits

import (
	"context"
	"time"

	"piao/internal/tenant"
)

// CoverImage is a merchant's brand image for a product (SPEC B2), shown on
// the H5 pages: checked by upload.Covers before it is stored.
type CoverImage struct {
	ProductID   int64     `json:"product_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int       `json:"size"`
	SHA256      string    `json:"sha256"`
	Data        []byte    `json:"-"`
	UpdatedBy   string    `json:"updated_by"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Charge is what one merchant-owned campaign's tickets saved riders in a
// period: the merchant pays it (SPEC B2), not the operator. Rides settled
// from metro trips count in the period their trip began, rides redeemed
// through the per-ride API when they were redeemed.
type Charge struct {
	CampaignID int64  `json:"campaign_id"`
	Merchant   int64  `json:"merchant"`
	NameZH     string `json:"name_zh"`
	NameEN     string `json:"name_en"`
	Rides      int    `json:"rides"`
	Fen        int64  `json:"fen"`
}

// Funding is what a funding change did, kept with its idempotency key.
type Funding struct {
	Campaign Campaign
	// Value is the change's figure: fen added by a top-up, fen left
	// unused by a close.
	Value int64
	// Again is set when the key was used before: nothing changed, and
	// Value is the first call's.
	Again bool
}

// MerchantStore keeps what merchants' campaigns add to value-added
// tickets: the operator's templates, products' cover images, funding and
// the charges of merchant-owned campaigns.
type MerchantStore interface {
	// CreateTemplate stores a template, setting its ID.
	CreateTemplate(ctx context.Context, t *Template) error
	// Template returns one template.
	Template(ctx context.Context, id int64) (Template, error)
	// Templates lists templates newest first, only active ones if asked.
	Templates(ctx context.Context, activeOnly bool) ([]Template, error)
	// DeactivateTemplate stops offering a template and returns it.
	DeactivateTemplate(ctx context.Context, id int64) (Template, error)

	// SetCover stores (or replaces) the cover image of a product the
	// scope sees.
	SetCover(ctx context.Context, scope tenant.Scope, img CoverImage) error
	// Cover returns the cover image of a product, for anyone: covers are
	// what riders are shown.
	Cover(ctx context.Context, productID int64) (CoverImage, error)

	// FundCampaign runs fn on a campaign the scope sees, locked for
	// update, and stores the campaign, fn's event and the key with fn's
	// value, all in one transaction — once per key: a key used before for
	// this campaign changes nothing and returns the campaign as it stands
	// with the first value (Again set); for another campaign it is a
	// conflict.
	FundCampaign(ctx context.Context, scope tenant.Scope, id int64, key string, fn func(*Campaign) (Event, int64, error)) (Funding, error)

	// Charges sums, per merchant-owned campaign the scope sees, the rides
	// its tickets paid in [from, to) and what they saved.
	Charges(ctx context.Context, scope tenant.Scope, from, to time.Time) ([]Charge, error)
}
