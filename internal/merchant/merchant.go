// Package merchant is merchant onboarding (SPEC B1): a merchant applies
// with its legal name, unified social credit code, contact and papers;
// the operator reviews the application (approve, reject, ask for more);
// an approved merchant gets an admin login, may be suspended and
// reinstated; its admin invites staff and grants them a subset of the
// merchant's permissions (分权).
//
// The rules (the credit code's check characters, the status machine) are
// pure; Service holds the ones that need storage, behind Store.
package merchant

import (
	"strconv"
	"time"

	"piao/internal/fault"
	"piao/internal/upload"
)

// Kind is what sort of organisation a merchant row is: a merchant buying
// tickets for its customers, or an employer giving its employees a travel
// allowance (SPEC B3).
type Kind string

// The kinds of organisation.
const (
	KindMerchant Kind = "merchant"
	KindEmployer Kind = "employer"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == KindMerchant || k == KindEmployer }

// Status is where a merchant is in onboarding.
type Status string

// The statuses of a merchant.
const (
	Applied       Status = "applied"        // waiting for the operator's review
	InfoRequested Status = "info_requested" // the operator asked for more papers
	Approved      Status = "approved"       // working; its admin can log in
	Rejected      Status = "rejected"       // refused; its credit code may apply again
	Suspended     Status = "suspended"      // its accounts are disabled until reinstated
)

// Statuses lists every status, in display order.
var Statuses = []Status{Applied, InfoRequested, Approved, Rejected, Suspended}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, x := range Statuses {
		if x == s {
			return true
		}
	}
	return false
}

// Action is a change of a merchant's status.
type Action string

// The actions on a merchant: the operator's, and the applicant's resubmit.
const (
	Approve     Action = "approve"
	Reject      Action = "reject"
	RequestInfo Action = "request_info"
	Resubmit    Action = "resubmit"
	Suspend     Action = "suspend"
	Reinstate   Action = "reinstate"
)

// transitions is the status machine: from each status, the actions
// allowed and where they lead.
var transitions = map[Status]map[Action]Status{
	Applied:       {Approve: Approved, Reject: Rejected, RequestInfo: InfoRequested},
	InfoRequested: {Resubmit: Applied, Reject: Rejected},
	Approved:      {Suspend: Suspended},
	// Suspending a suspended merchant again re-runs the lock-out, so a
	// suspension a failure cut short can be finished.
	Suspended: {Suspend: Suspended, Reinstate: Approved},
}

// NeedsReason reports whether a an action must say why.
func (a Action) NeedsReason() bool { return a == Reject || a == RequestInfo || a == Suspend }

// Next returns the status action leads to from s; an action s does not
// allow is a conflict (reason merchant_status), an unknown one invalid.
func Next(s Status, a Action) (Status, error) {
	switch a {
	case Approve, Reject, RequestInfo, Resubmit, Suspend, Reinstate:
	default:
		return s, fault.Newf(fault.Invalid, "bad_action", "未知操作 %q", "unknown action %q", a)
	}
	to, ok := transitions[s][a]
	if !ok {
		return s, fault.Newf(fault.Conflict, "merchant_status", "商户当前状态为 %s，不能执行 %s", "a merchant that is %s cannot be %s", s, a)
	}
	return to, nil
}

// Contact is the person the operator calls about a merchant. The phone is
// personal data: sealed at rest, masked in answers.
type Contact struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// Merchant is an organisation that applied to work on the platform.
type Merchant struct {
	ID         int64   `json:"id"`
	Kind       Kind    `json:"kind"`
	LegalName  string  `json:"legal_name"`
	CreditCode string  `json:"credit_code"`
	Contact    Contact `json:"contact"`
	// AdminUsername is the login its admin asked for; the account is
	// made when the merchant is approved (AdminAccount).
	AdminUsername string `json:"admin_username"`
	AdminAccount  int64  `json:"admin_account,omitempty"`
	// AdminPasswordHash is the admin's password, hashed when the merchant
	// applied and kept only until the account is made.
	AdminPasswordHash string    `json:"-"`
	Status            Status    `json:"status"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
	// SuspendedAccounts are the accounts a suspension disabled, which a
	// reinstatement enables again (and no other: a staff account its admin
	// had disabled stays disabled).
	SuspendedAccounts []int64 `json:"-"`
}

// Subject is how the audit trail names the merchant.
func (m Merchant) Subject() string { return Subject(m.ID) }

// Subject is how the audit trail names merchant id.
func Subject(id int64) string { return "merchant:" + strconv.FormatInt(id, 10) }

// Event is one change of a merchant's status: who, when, from, to, why.
type Event struct {
	ID       int64     `json:"id"`
	Merchant int64     `json:"merchant"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"` // "operator:3 (alice)", "applicant", "system"
	Action   Action    `json:"action,omitempty"`
	From     Status    `json:"from,omitempty"` // empty for the application
	To       Status    `json:"to"`
	Reason   string    `json:"reason,omitempty"`
}

// PaperKind is what a paper is.
type PaperKind string

// The kinds of papers.
const (
	Licence    PaperKind = "licence" // the business licence (营业执照)
	OtherPaper PaperKind = "other"
)

// MaxPapers is how many papers a merchant may hold.
const MaxPapers = 10

// Paper is a file a merchant submitted. Data is loaded only when the file
// itself is read.
type Paper struct {
	ID       int64     `json:"id"`
	Merchant int64     `json:"merchant"`
	Kind     PaperKind `json:"kind"`
	upload.File
	CreatedAt time.Time `json:"created_at"`
}

// Upload is a paper as submitted, before it is checked.
type Upload struct {
	Kind PaperKind
	Name string
	Data []byte
}
