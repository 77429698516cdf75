package governance

import (
	"fmt"
	"strconv"
	"time"

	"piao/internal/fault"
)

// Counts is what a subject did on one service day.
type Counts struct {
	// Manual is orders (for an account) or tickets (for a passenger)
	// cancelled by hand before payment.
	Manual int `json:"manual"`
	// Expired is holds that ran out unpaid (automatic returns).
	Expired int `json:"expired"`
}

// AccountSubject names a booking account in counts and lists.
func AccountSubject(id int64) string { return "account:" + strconv.FormatInt(id, 10) }

// Actor names an operator in audit trails: "account:3 (admin)".
func Actor(accountID int64, username string) string {
	return AccountSubject(accountID) + " (" + username + ")"
}

// DocumentSubject names a passenger, by travel document, in counts and lists.
func DocumentSubject(docType, number string) string { return "doc:" + docType + ":" + number }

// Warning tells a passenger they are close to a limit.
type Warning struct {
	Code      string `json:"code"`
	Passenger string `json:"passenger,omitempty"` // masked name
	Count     int    `json:"count"`
	Limit     int    `json:"limit"`
	ZH        string `json:"zh"`
	EN        string `json:"en"`
}

func liftText(until time.Time) (zh, en string) {
	l := until.In(Shanghai).Format("2006-01-02 15:04")
	return l, l + " (Beijing time)"
}

// CheckAccount refuses a booking by an account that has used its manual
// cancels for the day (G1). until is when the day ends.
func (r Rules) CheckAccount(c Counts, until time.Time) error {
	if r.AccountCancelLimit <= 0 || c.Manual < r.AccountCancelLimit {
		return nil
	}
	zh, en := liftText(until)
	return fault.New(fault.LimitReached, "account_cancel_limit",
		fmt.Sprintf("本账号今日已取消订单 %d 次，%s 前不能再订票", c.Manual, zh),
		fmt.Sprintf("this account cancelled %d orders today and cannot book again before %s", c.Manual, en)).WithRetryAt(until)
}

// documentCount is the passenger's count the limit applies to.
func (r Rules) documentCount(c Counts) int {
	if r.CountExpiries {
		return c.Manual + c.Expired
	}
	return c.Manual
}

// CheckDocument refuses a booking for a passenger whose tickets were
// cancelled too often today across all accounts (G2), and otherwise warns
// once the count reaches the warning threshold. index is the passenger's
// place in the order (0-based) and name their masked name.
func (r Rules) CheckDocument(index int, name string, c Counts, until time.Time) (*Warning, error) {
	n := r.documentCount(c)
	if r.DocumentCancelLimit > 0 && n >= r.DocumentCancelLimit {
		zh, en := liftText(until)
		return nil, fault.New(fault.LimitReached, "passenger_cancel_limit",
			fmt.Sprintf("第 %d 位乘客（%s）今日已被取消 %d 次（含所有账号），%s 前不能为其订票", index+1, name, n, zh),
			fmt.Sprintf("passenger %d (%s) had %d cancels today across all accounts and cannot be booked before %s", index+1, name, n, en)).WithRetryAt(until)
	}
	if r.DocumentWarnAt > 0 && n >= r.DocumentWarnAt {
		return r.documentWarning(name, n), nil
	}
	return nil, nil
}

// CancelWarning is the warning given with a cancel that brings a passenger's
// count to the threshold or beyond, nil below it.
func (r Rules) CancelWarning(name string, c Counts) *Warning {
	n := r.documentCount(c)
	if r.DocumentWarnAt <= 0 || n < r.DocumentWarnAt {
		return nil
	}
	return r.documentWarning(name, n)
}

func (r Rules) documentWarning(name string, n int) *Warning {
	w := &Warning{Code: "passenger_cancels", Passenger: name, Count: n, Limit: r.DocumentCancelLimit}
	if r.DocumentCancelLimit > 0 {
		left := max(r.DocumentCancelLimit-n, 0)
		w.ZH = "乘客 " + name + " 今日已被取消 " + strconv.Itoa(n) + " 次；再取消 " + strconv.Itoa(left) + " 次，今日将不能为其订票"
		w.EN = "passenger " + name + " had " + strconv.Itoa(n) + " cancels today; " + strconv.Itoa(left) + " more and they cannot be booked again today"
	} else {
		w.ZH = "乘客 " + name + " 今日已被取消 " + strconv.Itoa(n) + " 次，请避免反复取消"
		w.EN = "passenger " + name + " had " + strconv.Itoa(n) + " cancels today; please avoid cancelling repeatedly"
	}
	return w
}

// AccountWarning is the warning given with an account's cancel when it has
// one cancel left today, or none (then booking is closed until the day
// ends); nil otherwise.
func (r Rules) AccountWarning(c Counts, until time.Time) *Warning {
	limit := r.AccountCancelLimit
	if limit <= 0 || c.Manual < limit-1 {
		return nil
	}
	w := &Warning{Code: "account_cancels", Count: c.Manual, Limit: limit}
	if c.Manual >= limit {
		zh, en := liftText(until)
		w.ZH = fmt.Sprintf("本账号今日已取消 %d 次，%s 前不能再订票", c.Manual, zh)
		w.EN = fmt.Sprintf("this account has cancelled %d times today and cannot book again before %s", c.Manual, en)
		return w
	}
	w.ZH = fmt.Sprintf("本账号今日已取消 %d 次；再取消 1 次，今日将不能再订票", c.Manual)
	w.EN = fmt.Sprintf("this account has cancelled %d times today; one more and it cannot book again today", c.Manual)
	return w
}
