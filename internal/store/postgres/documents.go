package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/store/sqlrow"
)

// Document ownership (governance.DocumentStore), and the booking.Tx methods
// that read and write it inside booking transactions.

const (
	// qOwnership reads a document's verified holder and approved accounts.
	qOwnership = `SELECT account_id, true FROM document_claims WHERE doc_type = $1 AND doc_number = $2 AND status = 'verified'
		UNION ALL
		SELECT account_id, false FROM account_documents WHERE doc_type = $1 AND doc_number = $2 AND approved_at IS NOT NULL`
	qDocumentCounts = `SELECT account_id, manual, expired FROM document_counts WHERE doc_type = $1 AND doc_number = $2 AND day = $3`
	// qApproveLink links a document to an account, approved.
	qApproveLink = `INSERT INTO account_documents (account_id, doc_type, doc_number, doc_sealed, added_at, approved_at) VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (account_id, doc_type, doc_number) DO UPDATE SET approved_at = excluded.approved_at`
)

// Document numbers are stored as their index (sqlrow.PII.DocIndex), the
// form tickets.doc_number has too; the passenger list and the claims keep
// the number sealed in doc_sealed.

func readOwnership(ctx context.Context, q querier, pii sqlrow.PII, docType, docNumber string) (governance.Ownership, error) {
	rows, err := list(ctx, q, "read document ownership", sqlrow.ScanOwner, qOwnership, docType, pii.DocIndex(docType, docNumber))
	if err != nil {
		return governance.Ownership{}, err
	}
	return sqlrow.Ownerships(rows)[""], nil
}

func readDocumentCounts(ctx context.Context, q querier, pii sqlrow.PII, docType, docNumber string, day network.Date) (map[int64]governance.Counts, error) {
	rows, err := list(ctx, q, "read document counts", sqlrow.ScanAccountCounts, qDocumentCounts, docType, pii.DocIndex(docType, docNumber), day.String())
	if err != nil {
		return nil, err
	}
	return sqlrow.CountsByAccount(rows), nil
}

// DocumentOwnership reads a document's verified holder and approved accounts.
func (t *bookingTx) DocumentOwnership(docType, docNumber string) (governance.Ownership, error) {
	own, err := readOwnership(t.ctx, t.tx, t.pii, docType, docNumber)
	return own, txError(err, "read document ownership")
}

// LinkDocument puts a document on an account's passenger list unless it is there.
func (t *bookingTx) LinkDocument(accountID int64, docType, docNumber string, at time.Time) error {
	ix, sealedNumber := t.pii.Doc(docType, docNumber)
	_, err := t.tx.Exec(t.ctx, `INSERT INTO account_documents (account_id, doc_type, doc_number, doc_sealed, added_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (account_id, doc_type, doc_number) DO NOTHING`, accountID, docType, ix, sealedNumber, at)
	return txError(err, "link document")
}

// DocumentDayCounts reads a document's counts on a day by account.
func (t *bookingTx) DocumentDayCounts(docType, docNumber string, day network.Date) (map[int64]governance.Counts, error) {
	c, err := readDocumentCounts(t.ctx, t.tx, t.pii, docType, docNumber, day)
	return c, txError(err, "read document counts")
}

// AddDocumentDayCounts adds an account's cancels of a document with one
// upsert: concurrent adds wait for the row's lock in turn and all count.
func (t *bookingTx) AddDocumentDayCounts(docType, docNumber string, accountID int64, day network.Date, manual, expired int) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO document_counts (doc_type, doc_number, day, account_id, manual, expired) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (doc_type, doc_number, day, account_id) DO UPDATE SET manual = document_counts.manual + excluded.manual,
			expired = document_counts.expired + excluded.expired`, docType, t.pii.DocIndex(docType, docNumber), day.String(), accountID, manual, expired)
	return txError(err, "add document counts")
}

// Ownership returns a document's verified holder and approved accounts.
func (s *governanceStore) Ownership(ctx context.Context, docType, docNumber string) (governance.Ownership, error) {
	return readOwnership(ctx, s.pool, s.pii, docType, docNumber)
}

// VerifiedDocuments returns the ownership of every verified document.
func (s *governanceStore) VerifiedDocuments(ctx context.Context) (map[string]governance.Ownership, error) {
	rows, err := list(ctx, s.pool, "read verified documents", sqlrow.NewDocCache(s.pii).ScanDocumentOwner,
		`SELECT doc_type || ':' || doc_number, doc_sealed, account_id, true FROM document_claims WHERE status = 'verified'
		UNION ALL
		SELECT c.doc_type || ':' || c.doc_number, c.doc_sealed, d.account_id, false FROM account_documents d
			JOIN document_claims c ON c.doc_type = d.doc_type AND c.doc_number = d.doc_number AND c.status = 'verified'
			WHERE d.approved_at IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	return sqlrow.Ownerships(rows), nil
}

// DocumentDayCounts returns a document's counts on a day by account.
func (s *governanceStore) DocumentDayCounts(ctx context.Context, day network.Date, docType, docNumber string) (map[int64]governance.Counts, error) {
	return readDocumentCounts(ctx, s.pool, s.pii, docType, docNumber, day)
}

// AccountDocuments lists an account's passenger list, oldest first.
func (s *governanceStore) AccountDocuments(ctx context.Context, accountID int64) ([]governance.LinkedDocument, error) {
	return sqlrow.PassengerList(list(ctx, s.pool, "read passenger list", s.pii.ScanLinkedDocument,
		`SELECT d.doc_type, d.doc_sealed, d.added_at, COALESCE(c.account_id, 0), d.approved_at IS NOT NULL
		FROM account_documents d
		LEFT JOIN document_claims c ON c.doc_type = d.doc_type AND c.doc_number = d.doc_number AND c.status = 'verified'
		WHERE d.account_id = $1`, accountID))
}

// SetApproval links a document to an account and sets or clears its approval.
func (s *governanceStore) SetApproval(ctx context.Context, accountID int64, docType, docNumber string, at *time.Time) error {
	var err error
	ix, sealedNumber := s.pii.Doc(docType, docNumber)
	if at == nil {
		_, err = s.pool.Exec(ctx, `UPDATE account_documents SET approved_at = NULL WHERE account_id = $1 AND doc_type = $2 AND doc_number = $3`,
			accountID, docType, ix)
	} else {
		_, err = s.pool.Exec(ctx, qApproveLink, accountID, docType, ix, sealedNumber, *at)
	}
	return fault.Wrap(err, "set document approval")
}

// AddClaim stores a pending claim, setting its ID.
func (s *governanceStore) AddClaim(ctx context.Context, c *governance.Claim) error {
	ix, sealedNumber := s.pii.Doc(c.DocType, c.DocNumber)
	err := s.pool.QueryRow(ctx, `INSERT INTO document_claims (account_id, doc_type, doc_number, doc_sealed, name, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		c.AccountID, c.DocType, ix, sealedNumber, c.Name, string(c.Status), c.CreatedAt).Scan(&c.ID)
	if kind, _ := violation(err); kind == sqlrow.Unique {
		return governance.ErrClaimOpen
	}
	return fault.Wrap(err, "add document claim")
}

// Claims lists claims newest first.
func (s *governanceStore) Claims(ctx context.Context, f governance.ClaimFilter) ([]governance.Claim, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.Status != "" {
		where = append(where, `status = `+arg(string(f.Status)))
	}
	if f.AccountID != 0 {
		where = append(where, `account_id = `+arg(f.AccountID))
	}
	q := `SELECT ` + sqlrow.ClaimColumns + ` FROM document_claims`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	limit, offset := sqlrow.Page(f.Limit, f.Offset)
	q += ` ORDER BY id DESC LIMIT ` + arg(limit) + ` OFFSET ` + arg(offset)
	return list(ctx, s.pool, "list document claims", s.pii.ScanClaim, q, args...)
}

// Claim returns one claim.
func (s *governanceStore) Claim(ctx context.Context, id int64) (governance.Claim, error) {
	c, err := s.pii.ScanClaim(s.pool.QueryRow(ctx, `SELECT `+sqlrow.ClaimColumns+` FROM document_claims WHERE id = $1`, id))
	return c, sqlrow.NoRowsAs(fault.Wrap(err, "read document claim"), governance.ErrClaimNotFound)
}

// DecideClaim moves a claim from one status to another; verifying makes its
// account the holder, and any change of holder clears earlier approvals.
func (s *governanceStore) DecideClaim(ctx context.Context, from governance.ClaimStatus, c governance.Claim) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE document_claims SET status = $1, decided_at = $2, decided_by = $3, reason = $4 WHERE id = $5 AND status = $6`,
			string(c.Status), c.DecidedAt, c.DecidedBy, c.Reason, c.ID, string(from))
		if kind, _ := violation(err); kind == sqlrow.Unique {
			return governance.ErrAlreadyVerified
		}
		if err != nil || tag.RowsAffected() == 0 {
			return fault.Wrap(err, "decide document claim")
		}
		ok = true
		if c.Status != governance.ClaimVerified && from != governance.ClaimVerified {
			return nil
		}
		ix, sealedNumber := s.pii.Doc(c.DocType, c.DocNumber)
		if _, err := tx.Exec(ctx, `UPDATE account_documents SET approved_at = NULL WHERE doc_type = $1 AND doc_number = $2`, c.DocType, ix); err != nil {
			return fault.Wrap(err, "clear document approvals")
		}
		if c.Status != governance.ClaimVerified {
			return nil
		}
		_, err = tx.Exec(ctx, qApproveLink, c.AccountID, c.DocType, ix, sealedNumber, c.DecidedAt)
		return fault.Wrap(err, "link the holder's document")
	})
	return ok && err == nil, err
}
