package subsidy

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"piao/internal/benefits"
	"piao/internal/fault"
)

// State is where an enrolment is in its lifecycle.
type State string

// Enrolment states. Active becomes Expired at Until; StateAt reports it
// before Expire records it.
const (
	Applied  State = "applied"  // 待审核: waiting for the operator
	Active   State = "active"   // 已认证: verified, subsidised until Until
	Rejected State = "rejected" // 已驳回: the application was refused
	Expired  State = "expired"  // 已过期: past Until; enrol again or have a pending renewal verified
	Revoked  State = "revoked"  // 已撤销: withdrawn by the operator before expiry
)

// EventKind is what happened to an enrolment.
type EventKind string

// Event kinds, one per transition.
const (
	EvApplied          EventKind = "applied"
	EvVerified         EventKind = "verified"
	EvRejected         EventKind = "rejected"
	EvRenewalRequested EventKind = "renewal_requested"
	EvRenewed          EventKind = "renewed"
	EvRenewalRejected  EventKind = "renewal_rejected"
	EvExpired          EventKind = "expired"
	EvRevoked          EventKind = "revoked"
)

// System is who records transitions nobody makes, such as expiry.
const System = "system"

// Event is one immutable entry of an enrolment's history: what, when,
// who, and why or on what evidence.
type Event struct {
	Kind     EventKind `json:"kind"`
	At       time.Time `json:"at"`
	By       string    `json:"by"` // account:ID for the rider, the operator's user, or system
	Evidence string    `json:"evidence,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	// Until is the new end of the subsidy (verified, renewed).
	Until time.Time `json:"until,omitzero"`
}

// Renewal is a renewal the rider asked for, waiting for the operator.
type Renewal struct {
	Evidence string    `json:"evidence"`
	At       time.Time `json:"at"`
}

// Enrolment is one account's membership of one scheme.
type Enrolment struct {
	ID       int64  `json:"id,omitempty"` // set by the store
	Account  int64  `json:"account"`
	SchemeID string `json:"scheme_id"`
	Group    Group  `json:"group"`
	State    State  `json:"state"`
	// Evidence is the reference to the proof given (a certificate number,
	// a stored document's ID), never the document itself.
	Evidence   string    `json:"evidence"`
	AppliedAt  time.Time `json:"applied_at"`
	VerifiedBy string    `json:"verified_by,omitempty"`
	VerifiedAt time.Time `json:"verified_at,omitzero"`
	// From and Until bound the subsidy: [From, Until), Until being
	// midnight, Asia/Shanghai, after the last subsidised day.
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Reason is why it was rejected or revoked.
	Reason  string   `json:"reason,omitempty"`
	Renewal *Renewal `json:"renewal,omitempty"`
	History []Event  `json:"history"`
}

// ActiveAt reports whether the enrolment subsidises a ride entered at t.
func (e Enrolment) ActiveAt(t time.Time) bool {
	return e.State == Active && !t.Before(e.From) && t.Before(e.Until)
}

// StateAt returns the state at t: Expired for an active enrolment past
// its Until, the stored state otherwise.
func (e Enrolment) StateAt(t time.Time) State {
	if e.State == Active && !t.Before(e.Until) {
		return Expired
	}
	return e.State
}

// RenewalOpens returns when the renewal window opens: midnight, Asia/
// Shanghai, RenewDays days before Until (zero if s offers no renewal).
func (e Enrolment) RenewalOpens(s Scheme) time.Time {
	if s.RenewDays == 0 || e.Until.IsZero() {
		return time.Time{}
	}
	u := e.Until.In(benefits.Shanghai)
	return time.Date(u.Year(), u.Month(), u.Day()-s.RenewDays, 0, 0, 0, 0, benefits.Shanghai)
}

// record returns e with ev appended to a copy of its history, so the
// value e came from is never changed.
func (e Enrolment) record(ev Event) Enrolment {
	e.History = append(slices.Clip(e.History), ev)
	return e
}

func conflict(reason, zh, en string) error { return fault.New(fault.Conflict, reason, zh, en) }

func checkText(s string, max int, reason, zh, en string) error {
	if strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > max || !utf8.ValidString(s) ||
		strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return invalid(reason, zh, en)
	}
	return nil
}

func checkEvidence(ev string) error {
	return checkText(ev, 256, "bad_evidence", "请提供证明材料编号（1 至 256 字）", "give a reference to the evidence (1–256 characters)")
}

func checkBy(by string) error {
	return checkText(by, 64, "operator_required", "请注明审核人", "say who decides")
}

func checkAt(e Enrolment, at time.Time) error {
	if at.IsZero() {
		return invalid("time_required", "缺少操作时间", "the time of the action is missing")
	}
	if n := len(e.History); n > 0 && at.Before(e.History[n-1].At) {
		return invalid("time_reversed", "操作时间早于上一次操作", "the action is dated before the previous one")
	}
	return nil
}

func checkScheme(e Enrolment, s Scheme) error {
	if e.SchemeID != s.ID {
		return invalid("scheme_mismatch", "补贴方案与申请不符", "the scheme is not the enrolment's")
	}
	return nil
}

// Apply returns a new application by account to scheme s at at, with a
// reference to its evidence. prior are the account's earlier enrolments
// (any scheme): an application waiting for a decision, a pending
// renewal, or an enrolment active at at for the same scheme refuses it.
// Re-enrolment after expiry, rejection or revocation is a new Apply.
func Apply(s Scheme, prior []Enrolment, account int64, evidence string, at time.Time) (Enrolment, error) {
	if err := s.Validate(); err != nil {
		return Enrolment{}, err
	}
	if account <= 0 {
		return Enrolment{}, invalid("account_required", "请先登录", "an account is needed")
	}
	if err := checkEvidence(evidence); err != nil {
		return Enrolment{}, err
	}
	if at.IsZero() {
		return Enrolment{}, invalid("time_required", "缺少操作时间", "the time of the action is missing")
	}
	for _, p := range prior {
		if p.Account != account || p.SchemeID != s.ID {
			continue
		}
		switch {
		case p.State == Applied || p.Renewal != nil && (p.State == Active || p.State == Expired):
			return Enrolment{}, conflict("application_pending", "已有待审核的申请，请等待审核结果", "an application is already waiting for review")
		case p.ActiveAt(at) || p.State == Active && at.Before(p.From):
			return Enrolment{}, conflict("already_enrolled", "已认证且在有效期内，请在续期窗口内申请续期", "already enrolled and valid; renew within the renewal window instead")
		}
	}
	e := Enrolment{Account: account, SchemeID: s.ID, Group: s.Group, State: Applied, Evidence: evidence, AppliedAt: at}
	return e.record(Event{Kind: EvApplied, At: at, By: accountRef(account), Evidence: evidence}), nil
}

// Verify records the operator by verifying e at at: an application
// becomes active from at for the scheme's months; a pending renewal
// extends Until by those months from the old Until, or, when the
// enrolment lapsed before the decision, starts a new period at at.
func Verify(e Enrolment, s Scheme, by string, at time.Time) (Enrolment, error) {
	if err := checkScheme(e, s); err != nil {
		return e, err
	}
	if err := checkBy(by); err != nil {
		return e, err
	}
	if err := checkAt(e, at); err != nil {
		return e, err
	}
	switch {
	case e.State == Applied:
		e.State, e.VerifiedBy, e.VerifiedAt = Active, by, at
		e.From, e.Until = at, untilAfter(at, s.ValidMonths)
		return e.record(Event{Kind: EvVerified, At: at, By: by, Until: e.Until}), nil
	case e.Renewal != nil && (e.State == Active || e.State == Expired):
		if e.State == Active && at.Before(e.Until) {
			e.Until = untilAfter(e.Until, s.ValidMonths)
		} else {
			e.From, e.Until = at, untilAfter(at, s.ValidMonths)
		}
		e.State, e.VerifiedBy, e.VerifiedAt = Active, by, at
		e.Evidence, e.Renewal = e.Renewal.Evidence, nil
		return e.record(Event{Kind: EvRenewed, At: at, By: by, Evidence: e.Evidence, Until: e.Until}), nil
	}
	return e, conflict("not_awaiting_review", "该申请不在待审核状态", "nothing here is waiting for review")
}

// Reject records the operator by refusing e at at for reason: an
// application becomes rejected; a pending renewal is dropped and the
// enrolment runs on to its expiry.
func Reject(e Enrolment, by, reason string, at time.Time) (Enrolment, error) {
	if err := checkBy(by); err != nil {
		return e, err
	}
	if err := checkText(reason, 200, "reason_required", "请填写驳回原因（1 至 200 字）", "give a reason (1–200 characters)"); err != nil {
		return e, err
	}
	if err := checkAt(e, at); err != nil {
		return e, err
	}
	switch {
	case e.State == Applied:
		e.State, e.Reason = Rejected, reason
		return e.record(Event{Kind: EvRejected, At: at, By: by, Reason: reason}), nil
	case e.Renewal != nil && (e.State == Active || e.State == Expired):
		e.Renewal = nil
		return e.record(Event{Kind: EvRenewalRejected, At: at, By: by, Reason: reason}), nil
	}
	return e, conflict("not_awaiting_review", "该申请不在待审核状态", "nothing here is waiting for review")
}

// RequestRenewal records the rider asking at at to renew active
// enrolment e under scheme s, with new evidence; it must come within the
// renewal window, [RenewalOpens, Until).
func RequestRenewal(e Enrolment, s Scheme, evidence string, at time.Time) (Enrolment, error) {
	if err := checkScheme(e, s); err != nil {
		return e, err
	}
	if err := checkEvidence(evidence); err != nil {
		return e, err
	}
	if err := checkAt(e, at); err != nil {
		return e, err
	}
	switch {
	case s.RenewDays == 0:
		return e, conflict("renewal_not_offered", "该补贴不支持续期，请在到期后重新申请", "this scheme has no renewal; apply again after expiry")
	case e.StateAt(at) == Expired:
		return e, conflict("enrolment_expired", "认证已过期，请重新申请", "the enrolment has expired; apply again")
	case e.State != Active:
		return e, conflict("not_active", "仅已认证的补贴可续期", "only an active enrolment can be renewed")
	case e.Renewal != nil:
		return e, conflict("renewal_pending", "已有待审核的续期申请", "a renewal is already waiting for review")
	}
	if opens := e.RenewalOpens(s); at.Before(opens) {
		return e, fault.Newf(fault.Conflict, "renewal_too_early", "续期申请自 %s 起受理", "renewal opens on %s",
			opens.Format(time.DateOnly)).WithRetryAt(opens)
	}
	e.Renewal = &Renewal{Evidence: evidence, At: at}
	return e.record(Event{Kind: EvRenewalRequested, At: at, By: accountRef(e.Account), Evidence: evidence}), nil
}

// Expire records that active enrolment e expired, at at on or after its
// Until. A pending renewal stays pending: verified later, it starts a new
// period.
func Expire(e Enrolment, at time.Time) (Enrolment, error) {
	if err := checkAt(e, at); err != nil {
		return e, err
	}
	if e.State != Active {
		return e, conflict("not_active", "该补贴不在有效状态", "the enrolment is not active")
	}
	if at.Before(e.Until) {
		return e, conflict("not_expired", "补贴尚未到期", "the enrolment has not expired")
	}
	e.State = Expired
	return e.record(Event{Kind: EvExpired, At: at, By: System}), nil
}

// Revoke records the operator by withdrawing active enrolment e at at
// for reason (evidence found false, the rider left the group); a pending
// renewal is dropped. The account may apply again.
func Revoke(e Enrolment, by, reason string, at time.Time) (Enrolment, error) {
	if err := checkBy(by); err != nil {
		return e, err
	}
	if err := checkText(reason, 200, "reason_required", "请填写撤销原因（1 至 200 字）", "give a reason (1–200 characters)"); err != nil {
		return e, err
	}
	if err := checkAt(e, at); err != nil {
		return e, err
	}
	if e.State != Active {
		return e, conflict("not_active", "该补贴不在有效状态", "the enrolment is not active")
	}
	e.State, e.Reason, e.Renewal = Revoked, reason, nil
	return e.record(Event{Kind: EvRevoked, At: at, By: by, Reason: reason}), nil
}

func accountRef(a int64) string { return "account:" + strconv.FormatInt(a, 10) }
