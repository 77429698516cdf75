package sqlrow

import (
	"strings"

	"piao/internal/booking"
	"piao/internal/store/sealed"
)

// The row transforms of a key rotation (Engine.Reseal): each takes what a
// row stores, and returns it sealed with the current key, and whether it
// changed. A value stored before encryption (plain) is indexed and sealed
// too, so a rotation also finishes the move of an older database.

// PlainCountSubjects selects the day counts stored before encryption,
// under a document subject with its number in plain text.
const PlainCountSubjects = `subject LIKE 'doc:%' AND subject NOT LIKE 'doc:%:ix:%'`

// ResealBatch is how many rows a rotation rewrites per transaction.
const ResealBatch = 500

// ResealFileBatch is how many rows a rotation rewrites per transaction in
// a table of files (merchant_papers, up to 5 MiB each): a batch is held
// in memory, opened and sealed again.
const ResealFileBatch = 8

// isIndex tells an index (PII.Index) from a plain value.
func isIndex(v string) bool { return strings.HasPrefix(v, "ix:") }

// PlainDocNumbers selects the rows of account_documents and
// document_counts stored before encryption, with doc_number in plain text.
const PlainDocNumbers = `doc_number NOT LIKE 'ix:%'`

// ResealDoc rewrites the doc_number and doc_sealed of a row that keeps a
// document (tickets, account_documents, document_claims).
func (p PII) ResealDoc(docType, docNumber, docSealed string) (string, string, bool, error) {
	if docSealed == "" && !isIndex(docNumber) && docNumber != "" { // stored plain
		return p.DocIndex(docType, docNumber), p.Keys.Seal(docNumber), true, nil
	}
	s, changed, err := p.Keys.Reseal(docSealed)
	return docNumber, s, changed, err
}

// ResealPhone rewrites an account's phone (the index, "" for NULL) and
// phone_sealed; the index comes back nil for NULL.
func (p PII) ResealPhone(phone, phoneSealed string) (any, string, bool, error) {
	if phone == "" {
		return nil, phoneSealed, false, nil
	}
	if phoneSealed == "" && !isIndex(phone) {
		i, s := p.AccountPhone(phone)
		return i, s, true, nil
	}
	s, changed, err := p.Keys.Reseal(phoneSealed)
	return phone, s, changed, err
}

// ResealSubject rewrites a list membership's subject and subject_sealed.
func (p PII) ResealSubject(subject, subjectSealed string) (string, string, bool, error) {
	if !strings.HasPrefix(subject, "doc:") {
		return subject, subjectSealed, false, nil
	}
	if subjectSealed == "" { // stored plain
		return p.Subject(subject), p.SubjectSealed(subject), true, nil
	}
	s, changed, err := p.Keys.Reseal(subjectSealed)
	return subject, s, changed, err
}

// ResealWaitlist rewrites a waitlist entry's body.
func (p PII) ResealWaitlist(body string) (string, bool, error) {
	e, err := booking.DecodeWaitlist(body)
	if err != nil {
		return "", false, err
	}
	changed := false
	for i := range e.Passengers {
		n := e.Passengers[i].DocNumber
		if sealed.KeyOf(n) == 0 && n != "" { // stored plain
			e.Passengers[i].DocNumber, changed = p.Keys.Seal(n), true
			continue
		}
		s, c, err := p.Keys.Reseal(n)
		if err != nil {
			return "", false, err
		}
		e.Passengers[i].DocNumber, changed = s, changed || c
	}
	if !changed {
		return body, false, nil
	}
	out, err := booking.EncodeWaitlist(e)
	return out, err == nil, err
}

// ResealBytes rewrites a value SealBytes stored (a stored answer, a
// merchant's paper), sealing one stored plain.
func (p PII) ResealBytes(stored []byte) ([]byte, bool, error) {
	if len(stored) == 0 {
		return stored, false, nil
	}
	if !sealedBytes(stored) {
		return p.SealBytes(stored), true, nil
	}
	s, changed, err := p.Keys.Reseal(string(stored))
	return []byte(s), changed, err
}
