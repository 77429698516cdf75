package sqlrow

import (
	"encoding/json"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/tenant"
)

// What both engines answer about templates, covers and funding keys.
var (
	ErrTemplateNotFound = fault.New(fault.NotFound, "template_not_found", "模板不存在", "template not found")
	ErrCoverNotFound    = fault.New(fault.NotFound, "cover_not_found", "该产品没有封面图片", "the product has no cover image")
	ErrFundingKeyReused = fault.New(fault.Conflict, "key_reused", "该幂等键已用于其他活动", "this idempotency key was used for another campaign")
)

// TemplateColumns are the columns ScanTemplate reads from benefit_templates.
const TemplateColumns = `id, active, body`

// ScanTemplate reads a template: its definition from the JSON body, its
// active flag from the column. No row is ErrTemplateNotFound.
func ScanTemplate(r Row) (benefits.Template, error) {
	var t benefits.Template
	var id int64
	var active bool
	var body string
	if err := r.Scan(&id, &active, &body); err != nil {
		return t, NoRowsAs(fault.Wrap(err, "scan template"), ErrTemplateNotFound)
	}
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return t, fault.Wrap(err, "decode template")
	}
	t.ID, t.Active = id, active
	return t, nil
}

// TemplateBody is what of a template is kept as JSON.
func TemplateBody(t benefits.Template) ([]byte, error) {
	t.ID = 0
	b, err := json.Marshal(t)
	return b, fault.Wrap(err, "encode template")
}

// CoverColumns are the columns ScanCover reads from benefit_product_covers.
const CoverColumns = `product_id, name, content_type, sha256, data, updated_by, updated_at`

// ScanCover reads a product's cover image; no row is ErrCoverNotFound.
func ScanCover(r Row) (benefits.CoverImage, error) {
	var c benefits.CoverImage
	var at Time
	if err := r.Scan(&c.ProductID, &c.Name, &c.ContentType, &c.SHA256, &c.Data, &c.UpdatedBy, &at); err != nil {
		return c, NoRowsAs(fault.Wrap(err, "scan cover"), ErrCoverNotFound)
	}
	c.Size, c.UpdatedAt = len(c.Data), at.Time
	return c, nil
}

// ScanCharge reads one campaign's charge: campaign ID, owner, body (for
// the names), rides and fen.
func ScanCharge(r Row) (benefits.Charge, error) {
	var ch benefits.Charge
	var owner, body string
	if err := r.Scan(&ch.CampaignID, &owner, &body, &ch.Rides, &ch.Fen); err != nil {
		return ch, fault.Wrap(err, "scan charge")
	}
	var c benefits.Campaign
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return ch, fault.Wrap(err, "decode campaign")
	}
	ch.Merchant, _ = tenant.MerchantOf(owner)
	ch.NameZH, ch.NameEN = c.NameZH, c.NameEN
	return ch, nil
}

// MerchantOwners is the LIKE pattern of merchant owners.
const MerchantOwners = "merchant:%"
