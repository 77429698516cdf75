package sqlrow

import (
	"piao/internal/distribution"
	"piao/internal/fault"
	"piao/internal/tenant"
)

// Refusals of the distribution stores.
var (
	ErrListNotFound = fault.New(fault.NotFound, "list_not_found", "名单不存在", "distribution list not found")
	ErrLineNotFound = fault.New(fault.NotFound, "line_not_found", "名单中没有该行", "the list has no such line")
	ErrCodeRevoked  = fault.New(fault.Conflict, "code_revoked", "兑换码已作废", "this redemption code has been revoked")
)

// ListScope is the condition a merchant-owned table's merchant_id column
// meets within a scope, with its two arguments (all, merchant): the
// operator's scope sees every row, a merchant's only its own, the zero
// Scope none (merchant 0 matches no merchant's row).
func ListScope(scope tenant.Scope) (all bool, merchant int64) {
	return scope.IsAll(), max(scope.MerchantID(), 0)
}

// ListColumns are the columns ScanList reads from distribution_lists.
const ListColumns = `id, merchant_id, campaign_id, kind, uploaded_by, uploaded_at, entries, issued, refused, revoked`

// ScanList reads a list; no row is ErrListNotFound.
func ScanList(r Row) (distribution.List, error) {
	var l distribution.List
	var at Time
	err := r.Scan(&l.ID, &l.MerchantID, &l.CampaignID, (*string)(&l.Kind), &l.UploadedBy, &at, &l.Entries, &l.Issued, &l.Refused, &l.Revoked)
	l.UploadedAt = at.Time
	l.Pending = l.Issued+l.Refused < l.Entries // outcomes not recorded yet
	return l, NoRowsAs(fault.Wrap(err, "scan list"), ErrListNotFound)
}

// EntryColumns are the columns ScanEntry reads from distribution_entries.
const EntryColumns = `line, account_id, phone_sealed, note, COALESCE(ticket_id, 0), reason, message, revoked_at`

// ScanEntry reads a list entry, opening its phone.
func (p PII) ScanEntry(r Row) (distribution.Entry, error) {
	var e distribution.Entry
	var revoked NullTime
	if err := r.Scan(&e.Line, &e.Account, &e.Phone, &e.Note, &e.TicketID, &e.Reason, &e.Message, &revoked); err != nil {
		return e, fault.Wrap(err, "scan entry")
	}
	e.RevokedAt = revoked.Time
	if e.Phone != "" {
		var err error
		if e.Phone, err = p.open(e.Phone, "list phone"); err != nil {
			return e, err
		}
	}
	return e, nil
}

// EntryPhone is what distribution_entries.phone_sealed holds: the phone
// sealed, or nothing for an account line.
func (p PII) EntryPhone(phone string) string {
	if phone == "" {
		return ""
	}
	return p.Keys.Seal(phone)
}

// RecipientColumns are the columns ScanRecipient reads from accounts.
const RecipientColumns = `id, phone, role, disabled`

// ScanRecipient reads an account as a list recipient with its stored
// phone index.
func ScanRecipient(r Row) (index string, rc distribution.Recipient, err error) {
	var phone *string
	err = r.Scan(&rc.Account, &phone, (*string)(&rc.Role), &rc.Disabled)
	if phone != nil {
		index = *phone
	}
	return index, rc, fault.Wrap(err, "scan recipient")
}

// BatchColumns are what ScanBatch reads from redeem_code_batches b: the
// batch (CodeBatchColumns), how many of its codes were voided, and when.
const BatchColumns = CodeBatchColumns + `,
	(SELECT count(*) FROM redeem_codes c WHERE c.batch_id = b.id AND c.revoked_at IS NOT NULL),
	(SELECT max(c.revoked_at) FROM redeem_codes c WHERE c.batch_id = b.id)`

// ScanBatch reads a code batch with its voided count; no row is
// ErrBatchNotFound.
func ScanBatch(r Row) (distribution.Batch, error) {
	var b distribution.Batch
	var at Time
	var revoked NullTime
	err := r.Scan(&b.ID, &b.CampaignID, &b.Count, &b.CreatedBy, &at, &b.Redeemed, &b.Revoked, &revoked)
	b.CreatedAt, b.RevokedAt = at.Time, revoked.Time
	return b, NoRowsAs(fault.Wrap(err, "scan code batch"), ErrBatchNotFound)
}
