package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// CreateTemplate stores a template, setting its ID.
func (s *benefitsStore) CreateTemplate(ctx context.Context, t *benefits.Template) error {
	body, err := sqlrow.TemplateBody(*t)
	if err != nil {
		return err
	}
	err = s.pool.QueryRow(ctx, `INSERT INTO benefit_templates (active, created_at, body) VALUES ($1, $2, $3) RETURNING id`,
		t.Active, t.CreatedAt, body).Scan(&t.ID)
	return fault.Wrap(err, "insert template")
}

// Template returns one template.
func (s *benefitsStore) Template(ctx context.Context, id int64) (benefits.Template, error) {
	return sqlrow.ScanTemplate(s.pool.QueryRow(ctx, `SELECT `+sqlrow.TemplateColumns+` FROM benefit_templates WHERE id = $1`, id))
}

// Templates lists templates newest first.
func (s *benefitsStore) Templates(ctx context.Context, activeOnly bool) ([]benefits.Template, error) {
	return list(ctx, s.pool, "list templates", sqlrow.ScanTemplate,
		`SELECT `+sqlrow.TemplateColumns+` FROM benefit_templates WHERE active OR NOT $1 ORDER BY id DESC LIMIT 1000`, activeOnly)
}

// DeactivateTemplate stops offering a template.
func (s *benefitsStore) DeactivateTemplate(ctx context.Context, id int64) (benefits.Template, error) {
	return sqlrow.ScanTemplate(s.pool.QueryRow(ctx, `UPDATE benefit_templates SET active = false WHERE id = $1 RETURNING `+sqlrow.TemplateColumns, id))
}

// SetCover stores the cover image of a product the scope sees.
func (s *benefitsStore) SetCover(ctx context.Context, scope tenant.Scope, img benefits.CoverImage) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		p, err := productIn(ctx, tx, scope, img.ProductID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO benefit_product_covers (product_id, owner, name, content_type, sha256, data, updated_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (product_id) DO UPDATE SET name = excluded.name, content_type = excluded.content_type,
			sha256 = excluded.sha256, data = excluded.data, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			p.ID, p.Owner, img.Name, img.ContentType, img.SHA256, img.Data, img.UpdatedBy, img.UpdatedAt)
		return fault.Wrap(err, "store cover")
	})
}

// Cover returns the cover image of a product.
func (s *benefitsStore) Cover(ctx context.Context, productID int64) (benefits.CoverImage, error) {
	return sqlrow.ScanCover(s.pool.QueryRow(ctx, `SELECT `+sqlrow.CoverColumns+` FROM benefit_product_covers WHERE product_id = $1`, productID))
}

// FundCampaign changes a campaign's funding once per key. The campaign is
// locked before the key is read, so two calls with one key serialise on
// the campaign and the second sees the first's key.
func (s *benefitsStore) FundCampaign(ctx context.Context, scope tenant.Scope, id int64, key string, fn func(*benefits.Campaign) (benefits.Event, int64, error)) (benefits.Funding, error) {
	var f benefits.Funding
	err := s.tx(ctx, func(tx pgx.Tx) error {
		c, err := campaignIn(ctx, tx, scope, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		var campaignID int64
		switch err := tx.QueryRow(ctx, `SELECT campaign_id, value FROM campaign_funding WHERE key = $1`, key).Scan(&campaignID, &f.Value); {
		case err == nil:
			if campaignID != id {
				return sqlrow.ErrFundingKeyReused
			}
			f.Again, f.Campaign = true, c
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return fault.Wrap(err, "read funding key")
		}
		var e benefits.Event
		if f.Campaign, err = updateCampaignIn(ctx, tx, scope, id, func(c *benefits.Campaign) (benefits.Event, error) {
			var err error
			e, f.Value, err = fn(c)
			return e, err
		}); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO campaign_funding (key, campaign_id, action, value, at) VALUES ($1, $2, $3, $4, $5)`,
			key, id, e.Action, f.Value, e.At)
		if kind, _ := violation(err); kind == sqlrow.Unique {
			return sqlrow.ErrFundingKeyReused // the same key, for another campaign, at the same moment
		}
		return fault.Wrap(err, "record funding key")
	})
	return f, err
}

// Charges sums the savings of the merchant-owned campaigns the scope sees.
func (s *benefitsStore) Charges(ctx context.Context, scope tenant.Scope, from, to time.Time) ([]benefits.Charge, error) {
	all, owner := sqlrow.SeenBy(scope)
	// The uses are read campaign by campaign (the ledger's uses are keyed
	// by campaign, ticket_uses indexed so): the seen campaigns come first,
	// never a scan of a whole day's uses.
	return list(ctx, s.pool, "list charges", sqlrow.ScanCharge, `WITH seen AS (SELECT id FROM campaigns WHERE owner LIKE $5 AND ($6 OR owner = $7))
		SELECT c.id, c.owner, c.body, sum(x.rides)::bigint, sum(x.fen)::bigint FROM campaigns c JOIN (
			SELECT u.campaign_id AS campaign_id, count(*) AS rides, sum(u.saving) AS fen FROM `+sqlrow.LedgerUses+`
				WHERE u.campaign_id IN (SELECT id FROM seen) AND s.at >= $1 AND s.at < $2 GROUP BY u.campaign_id
			UNION ALL
			SELECT campaign_id, count(*), sum(saving) FROM ticket_uses
				WHERE campaign_id IN (SELECT id FROM seen) AND at >= $3 AND at < $4 GROUP BY campaign_id
		) x ON x.campaign_id = c.id
		GROUP BY c.id, c.owner, c.body ORDER BY c.id`,
		from.UnixMilli(), to.UnixMilli(), from, to, sqlrow.MerchantOwners, all, owner)
}
