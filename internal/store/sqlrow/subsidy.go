package sqlrow

import (
	"encoding/json"

	"piao/internal/fault"
	"piao/internal/subsidy"
)

// SchemeBody is a scheme's body column: its JSON.
func SchemeBody(sc subsidy.Scheme) (string, error) {
	b, err := json.Marshal(sc)
	return string(b), fault.Wrap(err, "encode scheme")
}

// ScanScheme reads a scheme's body column; no row is subsidy.ErrSchemeNotFound.
func ScanScheme(r Row) (subsidy.Scheme, error) {
	var body string
	var sc subsidy.Scheme
	if err := r.Scan(&body); err != nil {
		return subsidy.Scheme{}, NoRowsAs(fault.Wrap(err, "read scheme"), subsidy.ErrSchemeNotFound)
	}
	return sc, fault.Wrap(json.Unmarshal([]byte(body), &sc), "decode scheme")
}

// EnrolmentColumns are the columns of subsidy_enrolments that ScanEnrolment reads.
const EnrolmentColumns = `id, body`

// ScanEnrolment reads EnrolmentColumns; no row is subsidy.ErrEnrolmentNotFound.
func ScanEnrolment(r Row) (subsidy.Enrolment, error) {
	var e subsidy.Enrolment
	var id int64
	var body string
	if err := r.Scan(&id, &body); err != nil {
		return e, NoRowsAs(fault.Wrap(err, "read enrolment"), subsidy.ErrEnrolmentNotFound)
	}
	err := json.Unmarshal([]byte(body), &e)
	e.ID = id
	return e, fault.Wrap(err, "decode enrolment")
}

// EnrolmentBody is an enrolment's body column: its JSON without the ID,
// which is a column of its own.
func EnrolmentBody(e subsidy.Enrolment) (string, error) {
	e.ID = 0
	b, err := json.Marshal(e)
	return string(b), fault.Wrap(err, "encode enrolment")
}
