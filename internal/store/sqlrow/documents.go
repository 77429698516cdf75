package sqlrow

import (
	"cmp"
	"slices"

	"piao/internal/governance"
)

// ClaimColumns are the columns ScanClaim reads from document_claims.
const ClaimColumns = `id, account_id, doc_type, doc_sealed, name, status, created_at, decided_at, decided_by, reason`

// ScanClaim scans a row of ClaimColumns, opening its document number; a
// missing row is the driver's no-rows error, for the engine to map.
func (p PII) ScanClaim(r Row) (governance.Claim, error) {
	var c governance.Claim
	var created Time
	var decided NullTime
	err := r.Scan(&c.ID, &c.AccountID, &c.DocType, &c.DocNumber, &c.Name, (*string)(&c.Status), &created, &decided, &c.DecidedBy, &c.Reason)
	if err != nil {
		return c, err
	}
	c.CreatedAt = created.Time
	if !decided.IsZero() {
		c.DecidedAt = &decided.Time
	}
	c.DocNumber, err = p.open(c.DocNumber, "claimed document number")
	return c, err
}

// Owner is one row of a document's ownership: its verified holder
// (Holder set) or an account the holder approved; Document is
// "TYPE:NUMBER" when the query covers several documents.
type Owner struct {
	Document string
	Account  int64
	Holder   bool
}

// ScanOwner scans a row of account and holder flag.
func ScanOwner(r Row) (Owner, error) {
	var o Owner
	err := r.Scan(&o.Account, &o.Holder)
	return o, err
}

// ScanDocumentOwner scans a row of the document as stored ("TYPE:index"),
// its sealed number, account and holder flag, opening the document
// ("TYPE:NUMBER").
func (c *DocCache) ScanDocumentOwner(r Row) (Owner, error) {
	var o Owner
	var stored, sealedNumber string
	if err := r.Scan(&stored, &sealedNumber, &o.Account, &o.Holder); err != nil {
		return o, err
	}
	var err error
	o.Document, err = c.Passenger(stored, sealedNumber)
	return o, err
}

// Ownerships folds owner rows into each document's ownership. Approvals
// of a document with no verified holder are left out: they are stale.
func Ownerships(rows []Owner) map[string]governance.Ownership {
	out := map[string]governance.Ownership{}
	for _, r := range rows {
		if r.Holder {
			o := out[r.Document]
			o.Holder = r.Account
			out[r.Document] = o
		}
	}
	for _, r := range rows {
		if o, ok := out[r.Document]; ok && !r.Holder && r.Account != o.Holder {
			o.Approved = append(o.Approved, r.Account)
			out[r.Document] = o
		}
	}
	return out
}

// AccountCounts is one account's counts of a document on a day.
type AccountCounts struct {
	Account int64
	governance.Counts
}

// ScanAccountCounts scans a row of account, manual and expired.
func ScanAccountCounts(r Row) (AccountCounts, error) {
	var c AccountCounts
	err := r.Scan(&c.Account, &c.Manual, &c.Expired)
	return c, err
}

// CountsByAccount maps account counts by account.
func CountsByAccount(rows []AccountCounts) map[int64]governance.Counts {
	out := make(map[int64]governance.Counts, len(rows))
	for _, r := range rows {
		out[r.Account] = r.Counts
	}
	return out
}

// PassengerList puts a passenger list read with ScanLinkedDocument in
// order: oldest first, then by type and number (the stored number is an
// index, whose order means nothing, so the order is made after opening).
func PassengerList(docs []governance.LinkedDocument, err error) ([]governance.LinkedDocument, error) {
	slices.SortStableFunc(docs, func(a, b governance.LinkedDocument) int {
		return cmp.Or(a.AddedAt.Compare(b.AddedAt), cmp.Compare(a.DocType, b.DocType), cmp.Compare(a.DocNumber, b.DocNumber))
	})
	return docs, err
}

// ScanLinkedDocument scans a row of doc type, sealed number, added at,
// holder account (0 if none) and this account's approval flag, opening
// the number.
func (p PII) ScanLinkedDocument(r Row) (governance.LinkedDocument, error) {
	var d governance.LinkedDocument
	var added Time
	if err := r.Scan(&d.DocType, &d.DocNumber, &added, &d.Holder, &d.Approved); err != nil {
		return d, err
	}
	d.AddedAt = added.Time
	var err error
	d.DocNumber, err = p.open(d.DocNumber, "passenger list document number")
	return d, err
}
