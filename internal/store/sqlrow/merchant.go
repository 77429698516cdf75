package sqlrow

import (
	"strconv"
	"strings"

	"piao/internal/fault"
	"piao/internal/merchant"
)

// MerchantColumns are the columns of merchants ScanMerchant reads.
const MerchantColumns = `id, kind, legal_name, credit_code, contact_name, contact_phone_sealed, admin_username, admin_account,
	admin_password_hash, status, suspended_accounts, created_at, updated_at`

// ScanMerchant reads MerchantColumns, opening the contact's phone; no row
// is merchant.ErrNotFound.
func (p PII) ScanMerchant(r Row) (merchant.Merchant, error) {
	var m merchant.Merchant
	var created, updated Time
	var suspended string
	err := r.Scan(&m.ID, (*string)(&m.Kind), &m.LegalName, &m.CreditCode, &m.Contact.Name, &m.Contact.Phone, &m.AdminUsername, &m.AdminAccount,
		&m.AdminPasswordHash, (*string)(&m.Status), &suspended, &created, &updated)
	if err != nil {
		return m, NoRowsAs(fault.Wrap(err, "read merchant"), merchant.ErrNotFound)
	}
	m.CreatedAt, m.UpdatedAt = created.Time, updated.Time
	if m.SuspendedAccounts, err = parseIDs(suspended); err != nil {
		return m, err
	}
	m.Contact.Phone, err = p.open(m.Contact.Phone, "merchant contact phone")
	return m, err
}

// MerchantPhone is a contact phone as merchants.contact_phone_sealed holds it.
func (p PII) MerchantPhone(phone string) string { return p.Keys.Seal(phone) }

// IDs is how a list of account IDs is stored: decimal, joined by commas.
func IDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

func parseIDs(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]int64, len(parts))
	for i, p := range parts {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, fault.Wrap(err, "read account IDs")
		}
		out[i] = id
	}
	return out, nil
}

// MerchantEventColumns are the columns of merchant_events ScanMerchantEvent reads.
const MerchantEventColumns = `id, merchant_id, at, actor, action, from_status, to_status, reason`

// ScanMerchantEvent reads MerchantEventColumns.
func ScanMerchantEvent(r Row) (merchant.Event, error) {
	var e merchant.Event
	var at Time
	err := r.Scan(&e.ID, &e.Merchant, &at, &e.Actor, (*string)(&e.Action), (*string)(&e.From), (*string)(&e.To), &e.Reason)
	e.At = at.Time
	return e, fault.Wrap(err, "read merchant event")
}

// PaperColumns are the columns of merchant_papers ScanPaper reads (not the bytes).
const PaperColumns = `id, merchant_id, kind, name, content_type, size, sha256, created_at`

// ScanPaper reads PaperColumns; no row is merchant.ErrPaperNotFound.
func ScanPaper(r Row) (merchant.Paper, error) {
	var p merchant.Paper
	var at Time
	err := r.Scan(&p.ID, &p.Merchant, (*string)(&p.Kind), &p.Name, &p.ContentType, &p.Size, &p.SHA256, &at)
	p.CreatedAt = at.Time
	return p, NoRowsAs(fault.Wrap(err, "read paper"), merchant.ErrPaperNotFound)
}

// ScanPaperData reads PaperColumns and then the bytes (data), opening them.
func (p PII) ScanPaperData(r Row) (merchant.Paper, error) {
	var pp merchant.Paper
	var at Time
	err := r.Scan(&pp.ID, &pp.Merchant, (*string)(&pp.Kind), &pp.Name, &pp.ContentType, &pp.Size, &pp.SHA256, &at, &pp.Data)
	pp.CreatedAt = at.Time
	if err != nil {
		return pp, NoRowsAs(fault.Wrap(err, "read paper"), merchant.ErrPaperNotFound)
	}
	pp.Data, err = p.OpenBytes(pp.Data, "paper")
	return pp, err
}

// InvitationColumns are the columns of merchant_invitations ScanInvitation reads.
const InvitationColumns = `hash, merchant_id, username, display_name, grants, invited_by, created_at, expires_at, accepted_at, account_id`

// ScanInvitation reads InvitationColumns; no row is merchant.ErrInvitationNotFound.
func ScanInvitation(r Row) (merchant.Invitation, error) {
	var inv merchant.Invitation
	var created, expires Time
	var accepted NullTime
	var grants string
	err := r.Scan(&inv.Hash, &inv.Merchant, &inv.Username, &inv.DisplayName, &grants, &inv.InvitedBy, &created, &expires, &accepted, &inv.Account)
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt, inv.Grants = created.Time, expires.Time, accepted.Time, ParseGrants(grants)
	return inv, NoRowsAs(fault.Wrap(err, "read invitation"), merchant.ErrInvitationNotFound)
}

// MerchantUniqueViolation maps a unique violation of merchants (named by
// the engine's message or constraint) to its domain error.
func MerchantUniqueViolation(what string) error {
	if strings.Contains(what, "admin_username") {
		return merchant.ErrUsernameTaken
	}
	return merchant.ErrCreditCodeTaken
}
