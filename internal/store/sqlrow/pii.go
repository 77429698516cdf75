package sqlrow

import (
	"bytes"
	"slices"
	"strings"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/store/sealed"
)

// PII is how both engines store personal data (document and phone
// numbers): sealed (AES-256-GCM) where it is kept, and replaced by its
// blind index (HMAC-SHA256) where it is looked up or must be unique:
//
//   - tickets.doc_number is the index of "TYPE:NUMBER", tickets.doc_sealed the number sealed;
//   - so are doc_number and doc_sealed of account_documents (passenger lists) and
//     document_claims; document_counts.doc_number is the index alone (only looked up);
//   - accounts.phone is the index of "phone:NUMBER", accounts.phone_sealed the number sealed;
//   - governance subjects "doc:TYPE:NUMBER" are stored as "doc:TYPE:<index of TYPE:NUMBER>",
//     and list_members.subject_sealed holds the subject sealed;
//   - waitlist bodies hold each passenger's number sealed;
//   - idempotency keys' stored answers (order bodies) are sealed whole;
//   - merchants.contact_phone_sealed is the contact's phone sealed;
//   - merchant_papers.data is the paper's file sealed whole (its size and
//     sha256 are the plain file's);
//   - distribution_entries.phone_sealed is a list line's phone sealed.
//
// The domain above sees plain values only.
type PII struct{ Keys *sealed.Keyring }

// ErrNoKeys is what opening a store without a keyring answers.
var ErrNoKeys = fault.New(fault.Internal, "pii_keys_missing", "未配置个人信息加密密钥", "no personal-data keys are configured")

// DocIndex is the stored form of a document number: its blind index,
// keyed by type so equal numbers of different types differ.
func (p PII) DocIndex(docType, number string) string {
	return p.Keys.Index(docType + ":" + number)
}

// PhoneIndex is the stored form of a phone number in accounts.phone.
func (p PII) PhoneIndex(phone string) string {
	return p.Keys.Index("phone:" + phone)
}

// Subject is a governance subject as stored: a document subject's number
// replaced by its index; other subjects as they are.
func (p PII) Subject(subject string) string {
	rest, ok := strings.CutPrefix(subject, "doc:")
	if !ok {
		return subject
	}
	typ, num, _ := strings.Cut(rest, ":")
	return "doc:" + typ + ":" + p.DocIndex(typ, num)
}

// SubjectSealed is what list_members.subject_sealed holds for a subject:
// a document subject sealed, nothing for others (they are not personal).
func (p PII) SubjectSealed(subject string) string {
	if !strings.HasPrefix(subject, "doc:") {
		return ""
	}
	return p.Keys.Seal(subject)
}

// Subjects maps each given subject's stored form to the subject.
func (p PII) Subjects(subjects []string) map[string]string {
	out := make(map[string]string, len(subjects))
	for _, s := range subjects {
		out[p.Subject(s)] = s
	}
	return out
}

// open is Keys.Open with the error named for what was read.
func (p PII) open(sealedValue, what string) (string, error) {
	v, err := p.Keys.Open(sealedValue)
	return v, fault.Wrap(err, "open "+what)
}

// BookedTicketColumns are the columns of tickets ScanBookedTicket reads.
const BookedTicketColumns = `id, order_id, service_id, service_date, number, from_seq, to_seq, from_station_id, to_station_id, departure, arrival,
	seat_no, car_no, seat, seat_class, berth, passenger_name, doc_type, doc_sealed, fare_fen, status, refund_fen, fee_fen, changed_to`

// ScanBookedTicket reads a ticket (BookedTicketColumns), opening its
// document number.
func (p PII) ScanBookedTicket(r Row) (booking.Ticket, error) {
	tk, err := scanBookedTicket(r)
	if err == nil {
		tk.DocNumber, err = p.open(tk.DocNumber, "document number")
	}
	return tk, err
}

// TicketDoc is a ticket's document as its row stores it: the index, then
// the sealed number.
func (p PII) TicketDoc(tk *booking.Ticket) (index, sealedNumber string) {
	return p.Doc(tk.DocType, tk.DocNumber)
}

// Doc is a document as a row that keeps it stores it (tickets,
// account_documents, document_claims): the index, then the sealed number.
func (p PII) Doc(docType, number string) (index, sealedNumber string) {
	return p.DocIndex(docType, number), p.Keys.Seal(number)
}

// AccountColumns are the columns of accounts that ScanAccount reads.
const AccountColumns = `id, username, phone_sealed, display_name, role, password_hash, disabled, created_at, merchant_id, grants`

// CredentialColumns are an account's columns (alias a) and then its
// token's (alias t), as ScanCredential reads them.
const CredentialColumns = `a.id, a.username, a.phone_sealed, a.display_name, a.role, a.password_hash, a.disabled, a.created_at, a.merchant_id, a.grants,
	t.hash, t.kind, t.created_at, t.expires_at`

// ScanAccount reads AccountColumns, opening the phone; no row is ErrAccountNotFound.
func (p PII) ScanAccount(r Row) (identity.Account, error) {
	a, err := scanAccount(r)
	if err == nil {
		a.Phone, err = p.open(a.Phone, "phone")
	}
	return a, err
}

// ScanCredential reads CredentialColumns, a token and its account with
// its phone opened; no row is ErrTokenNotFound.
func (p PII) ScanCredential(r Row) (identity.Token, identity.Account, error) {
	t, a, err := scanCredential(r)
	if err == nil {
		a.Phone, err = p.open(a.Phone, "phone")
	}
	return t, a, err
}

// AccountPhone is an account's phone as its row stores it: the index (nil,
// SQL NULL, when there is none, so the unique rule skips it) and the
// sealed number.
func (p PII) AccountPhone(phone string) (index any, sealedPhone string) {
	if phone == "" {
		return nil, ""
	}
	return p.PhoneIndex(phone), p.Keys.Seal(phone)
}

// MemberColumns are the columns ScanMember reads from list_members.
const MemberColumns = `id, list, subject, subject_sealed, source, reason, started_at, expires_at, lifted_at, lifted_by, lift_reason`

// ScanMember scans a row of MemberColumns, without the audit trail,
// opening a document subject; a missing row is the driver's no-rows
// error, for the engine to map.
func (p PII) ScanMember(r Row) (governance.Membership, error) {
	var m governance.Membership
	var start, expires Time
	var lifted NullTime
	var sealedSubject string
	err := r.Scan(&m.ID, (*string)(&m.List), &m.Subject, &sealedSubject, (*string)(&m.Source), &m.Reason, &start, &expires, &lifted, &m.LiftedBy, &m.LiftReason)
	if err != nil {
		return m, err
	}
	m.Start, m.Expires = start.Time, expires.Time
	if !lifted.IsZero() {
		m.LiftedAt = &lifted.Time
	}
	if sealedSubject != "" {
		m.Subject, err = p.open(sealedSubject, "list subject")
	}
	return m, err
}

// SealWaitlist returns the entry's body as stored: its passengers'
// document numbers sealed. e itself is left as it is.
func (p PII) SealWaitlist(e booking.WaitlistEntry) (string, error) {
	e.Passengers = slices.Clone(e.Passengers)
	for i := range e.Passengers {
		e.Passengers[i].DocNumber = p.Keys.Seal(e.Passengers[i].DocNumber)
	}
	return booking.EncodeWaitlist(e)
}

// ScanWaitlist reads a waitlist entry from its body column, opening its
// passengers' document numbers.
func (p PII) ScanWaitlist(r Row) (booking.WaitlistEntry, error) {
	e, err := scanWaitlist(r)
	for i := 0; err == nil && i < len(e.Passengers); i++ {
		e.Passengers[i].DocNumber, err = p.open(e.Passengers[i].DocNumber, "waitlist document number")
	}
	return e, err
}

// OneWaitlist reads the entry a single-row query of its body returned; no
// row is WaitlistNotFound(id).
func (p PII) OneWaitlist(r Row, id int64) (booking.WaitlistEntry, error) {
	e, err := oneWaitlist(r, id)
	for i := 0; err == nil && i < len(e.Passengers); i++ {
		e.Passengers[i].DocNumber, err = p.open(e.Passengers[i].DocNumber, "waitlist document number")
	}
	return e, err
}

// SealBytes is a value kept whole as bytes as its row stores it: sealed.
// Two columns hold such values: idempotency_keys.resp_body (stored
// answers hold orders, with their passengers' documents) and
// merchant_papers.data (a merchant's papers include copies of its legal
// representative's ID card). Empty, not NULL, when there is none.
func (p PII) SealBytes(plain []byte) []byte {
	if len(plain) == 0 {
		return []byte{}
	}
	return []byte(p.Keys.Seal(string(plain)))
}

// sealedBytes reports whether a stored byte value is sealed: one written
// before its column was sealed is plain, and reads as it is.
func sealedBytes(stored []byte) bool { return bytes.HasPrefix(stored, []byte("pii1:")) }

// OpenBytes opens a value SealBytes stored, what naming it in errors; a
// value stored plain (see sealedBytes) comes back as it is.
func (p PII) OpenBytes(stored []byte, what string) ([]byte, error) {
	if !sealedBytes(stored) {
		return stored, nil
	}
	plain, err := p.open(string(stored), what)
	return []byte(plain), err
}

// DocCache opens the documents of a stream of transactions, each distinct
// document once: a passenger's tickets share the index but not the
// ciphertext (every seal has its own nonce).
type DocCache struct {
	pii   PII
	plain map[string]string // "TYPE:index" → "TYPE:NUMBER"
}

// NewDocCache returns an empty cache.
func NewDocCache(p PII) *DocCache { return &DocCache{pii: p, plain: map[string]string{}} }

// docCacheSize bounds a DocCache.
const docCacheSize = 1 << 16

// Passenger is a transaction's passenger, "TYPE:NUMBER", from a ticket's
// stored "TYPE:index" and its sealed number.
func (c *DocCache) Passenger(stored, sealedNumber string) (string, error) {
	if p, ok := c.plain[stored]; ok {
		return p, nil
	}
	num, err := c.pii.open(sealedNumber, "document number")
	if err != nil {
		return "", err
	}
	typ, _, _ := strings.Cut(stored, ":")
	p := typ + ":" + num
	if len(c.plain) >= docCacheSize {
		clear(c.plain)
	}
	c.plain[stored] = p
	return p, nil
}

// SealingMigration is the schema version that began sealing personal data.
// A database migrated across it holds the plain values written before: the
// engines seal them right after, so an upgraded database never serves rows
// it can neither read nor find.
const SealingMigration = 12

// CrossedSealing reports whether the versions just applied include
// SealingMigration.
func CrossedSealing(applied []int64) bool {
	for _, v := range applied {
		if v == SealingMigration {
			return true
		}
	}
	return false
}
