package governance

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"piao/internal/audit"
	"piao/internal/behaviour"
	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/realname"
)

// ErrNotRunning is what the API and the console answer for governance in a
// process that does not run them.
var ErrNotRunning = fault.New(fault.Unavailable, "governance_unavailable", "治理服务未启动", "governance is not running in this process")

// Config tunes the governance service.
type Config struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CacheTTL is how long rules and active memberships are reused at
	// booking before they are read again (default 5 s), so changes made
	// by another process apply within it.
	CacheTTL time.Duration
	// Audit records the operators' changes of the rules and the lists and
	// decisions on document claims (nil: no trail). Rule-made list changes
	// stay in each membership's own events.
	Audit *audit.Log
}

// Service keeps the lists and answers, at booking, what the rules and the
// lists say. Its operator actions are audited.
type Service struct {
	store Store
	cfg   Config

	mu sync.Mutex // serialises list changes in this process

	// cache is read by every booking without a lock; refresh is held by
	// the one goroutine reading a new snapshot.
	cache   atomic.Pointer[snapshot]
	refresh sync.Mutex
}

// snapshot is the rules and active memberships read at one time.
type snapshot struct {
	rules   Rules
	members map[string][]Membership // by subject
	read    time.Time
}

// NewService returns a governance service over a store.
func NewService(store Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	return &Service{store: store, cfg: cfg}
}

// Rules returns the rules in force.
func (s *Service) Rules(ctx context.Context) (Rules, error) {
	v, err := s.store.Setting(ctx, SettingName)
	if err != nil {
		return Rules{}, err
	}
	return ParseRules(v)
}

// SetRules validates and stores new rules; this process applies them at
// once, others within CacheTTL.
func (s *Service) SetRules(ctx context.Context, r Rules, actor, reason string) error {
	if r.Lists.Effects == nil {
		r.Lists.Effects = DefaultRules().Lists.Effects
	}
	if err := r.Validate(); err != nil {
		return err
	}
	b, err := jsonMarshal(r)
	if err != nil {
		return err
	}
	before, err := s.Rules(ctx)
	if err != nil {
		return err
	}
	if err := s.store.SetSetting(ctx, SettingName, b); err != nil {
		return err
	}
	slog.InfoContext(ctx, "governance rules changed", "actor", actor, "rules", b)
	s.cache.Store(nil)
	return s.cfg.Audit.Record(ctx, "governance.rules.set", "governance_rules", before, r, reason)
}

// record writes the audit entry of an operator's list change: the
// membership before and after, without its own event trail and with a
// document number masked (the trail is read by auditors, who need not see
// full ID numbers).
func (s *Service) record(ctx context.Context, action string, before, after *Membership, reason string) error {
	view := func(m *Membership) any {
		if m == nil {
			return nil
		}
		v := *m
		v.Events = nil
		v.Subject = MaskedSubject(v.Subject)
		return v
	}
	id := after.ID
	return s.cfg.Audit.Record(ctx, action, fmt.Sprintf("list_member:%d", id), view(before), view(after), reason)
}

// MaskedSubject is a list subject for display to those who may not see
// full ID numbers: "doc:TYPE:NUMBER" with the number's middle hidden;
// accounts are shown as they are.
func MaskedSubject(subject string) string {
	rest, ok := strings.CutPrefix(subject, "doc:")
	if !ok {
		return subject
	}
	typ, number, ok := strings.Cut(rest, ":")
	if !ok {
		return "doc:" + realname.Passenger{DocNumber: rest}.Masked()
	}
	return "doc:" + typ + ":" + realname.Passenger{DocType: realname.DocType(typ), DocNumber: number}.Masked()
}

// current returns a fresh enough snapshot, reading one when needed.
func (s *Service) current(ctx context.Context) (*snapshot, error) {
	now := s.cfg.Now()
	fresh := func(c *snapshot) bool { return c != nil && now.Sub(c.read) < s.cfg.CacheTTL && !now.Before(c.read) }
	c := s.cache.Load()
	if fresh(c) {
		return c, nil
	}
	if c != nil && !s.refresh.TryLock() {
		return c, nil // another goroutine is reading a new one: this one is seconds old
	}
	if c == nil {
		s.refresh.Lock()
	}
	defer s.refresh.Unlock()
	if c := s.cache.Load(); fresh(c) {
		return c, nil
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return nil, err
	}
	c = &snapshot{rules: rules, members: map[string][]Membership{}, read: now}
	const page = 1000
	for off := 0; ; off += page {
		ms, err := s.store.Members(ctx, MemberFilter{ActiveAt: now, Limit: page, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			c.members[m.Subject] = append(c.members[m.Subject], m)
		}
		if len(ms) < page {
			break
		}
	}
	s.cache.Store(c)
	return c, nil
}

// Screen returns the rules in force and what the lists do to a booking by
// the given subjects (the account and each passenger's document).
func (s *Service) Screen(ctx context.Context, subjects []string) (Rules, Verdict, error) {
	c, err := s.current(ctx)
	if err != nil {
		return Rules{}, Verdict{}, err
	}
	now := s.cfg.Now()
	var hits []Membership
	for _, sub := range subjects {
		for _, m := range c.members[sub] {
			if m.Active(now) {
				hits = append(hits, m)
			}
		}
	}
	return c.rules, c.rules.Lists.Verdict(hits), nil
}

// BlockedError is the refusal of a booking by a blocking list.
func BlockedError(m Membership) error {
	until := m.Expires.In(Shanghai).Format("2006-01-02 15:04")
	who := subjectLabel(m.Subject)
	return fault.New(fault.Forbidden, "listed_blocked",
		fmt.Sprintf("%s 在「%s」名单中（%s），%s 前不能订票；如有异议请联系客服", who, m.List.ZH(), m.Reason, until),
		fmt.Sprintf("%s is on the %s list (%s) and cannot book before %s (Beijing time); contact support to dispute it", who, m.List, m.Reason, until)).WithRetryAt(m.Expires)
}

// MaskSubject shows a subject for display with a document's number masked
// (doc:id_card:3601**********1234); other subjects as they are.
func MaskSubject(subject string) string {
	if rest, ok := strings.CutPrefix(subject, "doc:"); ok {
		typ, num, _ := strings.Cut(rest, ":")
		return "doc:" + typ + ":" + realname.Passenger{DocType: realname.DocType(typ), DocNumber: num}.Masked()
	}
	return subject
}

// subjectLabel shows a subject without exposing a full document number.
func subjectLabel(subject string) string {
	if rest, ok := strings.CutPrefix(subject, "doc:"); ok {
		typ, num, _ := strings.Cut(rest, ":")
		if len(num) > 8 {
			num = num[:4] + strings.Repeat("*", len(num)-8) + num[len(num)-4:]
		}
		return typ + ":" + num
	}
	return subject
}

// ZH names the list in Chinese.
func (l List) ZH() string {
	switch l {
	case Restricted:
		return "受限"
	case Priority:
		return "优先"
	case Malicious:
		return "疑似恶意"
	}
	return string(l)
}

// Evaluation is what one run of the list rules did.
type Evaluation struct {
	From         time.Time    `json:"from"`
	To           time.Time    `json:"to"`
	Transactions int          `json:"transactions"`
	Subjects     int          `json:"subjects"`
	Added        map[List]int `json:"added"`
	Renewed      map[List]int `json:"renewed"`
	// KeptLifted counts matches left off because an operator lifted the
	// subject's membership and its term has not run out.
	KeptLifted map[List]int  `json:"kept_lifted"`
	Took       time.Duration `json:"took_ns"`
}

// SystemActor is the audit actor of rule-made changes.
const SystemActor = "system:rules"

// Evaluate applies the list rules to the rules' window ending now: subjects
// (passenger documents and booking accounts) that match a rule join its
// list or are renewed when less than half their term is left. An
// operator's lift stands for the rest of the lifted term. Memberships of
// subjects that stop matching run out at their expiry.
func (s *Service) Evaluate(ctx context.Context) (Evaluation, error) {
	started := time.Now()
	rules, err := s.Rules(ctx)
	if err != nil {
		return Evaluation{}, err
	}
	now := s.cfg.Now()
	lr := rules.Lists
	ev := Evaluation{From: now.AddDate(0, 0, -lr.WindowDays), To: now,
		Added: map[List]int{}, Renewed: map[List]int{}, KeptLifted: map[List]int{}}
	tallies := map[string]*Tally{}
	add := func(subject string, o behaviour.Outcome) {
		t := tallies[subject]
		if t == nil {
			t = &Tally{}
			tallies[subject] = t
		}
		t.Add(o)
	}
	// A verified document counts the transactions of the accounts its
	// holder admits only, so strangers' bookings cannot list it.
	verified, err := s.store.VerifiedDocuments(ctx)
	if err != nil {
		return Evaluation{}, err
	}
	err = s.store.Transactions(ctx, ev.From, ev.To, "", func(t behaviour.Transaction) error {
		ev.Transactions++
		if own, ok := verified[t.Passenger]; !ok || own.Admits(t.Account) {
			add("doc:"+t.Passenger, t.Outcome)
		}
		add(AccountSubject(t.Account), t.Outcome)
		return nil
	})
	if err != nil {
		return ev, err
	}
	ev.Subjects = len(tallies)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.cache.Store(nil)
	active := map[string]Membership{} // list + " " + subject
	const page = 1000
	for off := 0; ; off += page {
		ms, err := s.store.Members(ctx, MemberFilter{ActiveAt: now, Limit: page, Offset: off})
		if err != nil {
			return ev, err
		}
		for _, m := range ms {
			if old, ok := active[string(m.List)+" "+m.Subject]; !ok || m.Expires.After(old.Expires) {
				active[string(m.List)+" "+m.Subject] = m
			}
		}
		if len(ms) < page {
			break
		}
	}
	term := time.Duration(lr.MembershipDays) * 24 * time.Hour
	for subject, t := range tallies {
		for _, m := range lr.Match(*t) {
			if cur, ok := active[string(m.List)+" "+subject]; ok {
				if cur.Expires.Sub(now) >= term/2 {
					continue
				}
				a := Audit{MemberID: cur.ID, At: now, Actor: SystemActor, Action: "renew", Detail: m.Reason}
				if ok, err := s.store.ExtendMember(ctx, cur.ID, now.Add(term), a); err != nil {
					return ev, err
				} else if ok {
					ev.Renewed[m.List]++
				}
				continue
			}
			last, err := s.store.Members(ctx, MemberFilter{List: m.List, Subject: subject, Limit: 1})
			if err != nil {
				return ev, err
			}
			if len(last) == 1 && last[0].LiftedAt != nil && last[0].Expires.After(now) {
				ev.KeptLifted[m.List]++
				continue
			}
			nm := Membership{List: m.List, Subject: subject, Source: ByRule, Reason: m.Reason, Start: now, Expires: now.Add(term)}
			if err := s.store.AddMember(ctx, &nm, Audit{At: now, Actor: SystemActor, Action: "add", Detail: m.Reason}); err != nil {
				return ev, err
			}
			ev.Added[m.List]++
		}
	}
	ev.Took = time.Since(started)
	return ev, nil
}

// Run evaluates the list rules every interval until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ev, err := s.Evaluate(ctx)
		if err != nil {
			if ctx.Err() == nil {
				slog.Error("evaluating list rules", "err", err.Error())
			}
			continue
		}
		slog.Info("list rules evaluated", "transactions", ev.Transactions, "added", ev.Added, "renewed", ev.Renewed, "took", ev.Took.String())
	}
}

// Members lists memberships for review.
func (s *Service) Members(ctx context.Context, f MemberFilter) ([]Membership, error) {
	if f.List != "" && !f.List.Valid() {
		return nil, errUnknownList(f.List)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	return s.store.Members(ctx, f)
}

// Member returns a membership with its audit trail.
func (s *Service) Member(ctx context.Context, id int64) (Membership, error) {
	return s.store.Member(ctx, id)
}

func errUnknownList(l List) error {
	return fault.Newf(fault.Invalid, "unknown_list", "没有名单 %q（restricted、priority、malicious）", "there is no list %q (restricted, priority, malicious)", l)
}

// ValidSubject checks a subject an operator typed: account:ID or
// doc:TYPE:NUMBER.
func ValidSubject(subject string) error {
	kind, rest, _ := strings.Cut(subject, ":")
	ok := false
	switch kind {
	case "account":
		ok = rest != "" && strings.Trim(rest, "0123456789") == ""
	case "doc":
		typ, num, _ := strings.Cut(rest, ":")
		ok = typ != "" && num != "" && len(num) <= 32
	}
	if !ok || len(subject) > 64 {
		return fault.Newf(fault.Invalid, "bad_subject", "对象 %q 应为 account:账号ID 或 doc:证件类型:证件号", "subject %q must be account:ID or doc:TYPE:NUMBER", subject)
	}
	return nil
}

// checkDays bounds a term an operator gives.
func checkDays(days int) error {
	if days < 1 || days > 3660 {
		return fault.New(fault.Invalid, "bad_days", "天数须在 1–3660 之间", "days must be 1–3660")
	}
	return nil
}

func needReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return "", fault.New(fault.Invalid, "reason_required", "请填写原因（500 字以内）", "give a reason (up to 500 characters)")
	}
	return reason, nil
}

// Add puts a subject on a list by hand for days. A subject already on the
// list is refused: extend that membership instead.
func (s *Service) Add(ctx context.Context, l List, subject, reason string, days int, actor string) (Membership, error) {
	if !l.Valid() {
		return Membership{}, errUnknownList(l)
	}
	if err := ValidSubject(subject); err != nil {
		return Membership{}, err
	}
	if err := checkDays(days); err != nil {
		return Membership{}, err
	}
	reason, err := needReason(reason)
	if err != nil {
		return Membership{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	cur, err := s.store.Members(ctx, MemberFilter{List: l, Subject: subject, ActiveAt: now, Limit: 1})
	if err != nil {
		return Membership{}, err
	}
	if len(cur) > 0 {
		return Membership{}, fault.Newf(fault.Conflict, "already_listed", "%s 已在该名单中（记录 %d），请延期该记录", "%s is on that list already (membership %d): extend it instead", subject, cur[0].ID)
	}
	m := Membership{List: l, Subject: subject, Source: ByOperator, Reason: reason, Start: now, Expires: now.AddDate(0, 0, days)}
	if err := s.store.AddMember(ctx, &m, Audit{At: now, Actor: actor, Action: "add", Detail: reason}); err != nil {
		return Membership{}, err
	}
	s.cache.Store(nil)
	added, err := s.store.Member(ctx, m.ID)
	if err != nil {
		return Membership{}, err
	}
	if err := s.record(ctx, "governance.list.add", nil, &added, reason); err != nil {
		return Membership{}, err
	}
	return added, nil
}

// Lift ends a membership now.
func (s *Service) Lift(ctx context.Context, id int64, reason, actor string) (Membership, error) {
	reason, err := needReason(reason)
	if err != nil {
		return Membership{}, err
	}
	return s.changeActive(ctx, "governance.list.lift", reason, id, func(m Membership, now time.Time) (bool, error) {
		return s.store.LiftMember(ctx, id, now, actor, reason, Audit{MemberID: id, At: now, Actor: actor, Action: "lift", Detail: reason})
	})
}

// Extend moves a membership's expiry days later than it is now.
func (s *Service) Extend(ctx context.Context, id int64, days int, reason, actor string) (Membership, error) {
	if err := checkDays(days); err != nil {
		return Membership{}, err
	}
	reason, err := needReason(reason)
	if err != nil {
		return Membership{}, err
	}
	return s.changeActive(ctx, "governance.list.extend", reason, id, func(m Membership, now time.Time) (bool, error) {
		until := m.Expires.AddDate(0, 0, days)
		detail := fmt.Sprintf("%s → %s: %s", m.Expires.In(Shanghai).Format("2006-01-02 15:04"), until.In(Shanghai).Format("2006-01-02 15:04"), reason)
		return s.store.ExtendMember(ctx, id, until, Audit{MemberID: id, At: now, Actor: actor, Action: "extend", Detail: detail})
	})
}

// changeActive applies change to a membership in force and returns the
// membership as it is afterwards; change reports false when the store found
// it lifted meanwhile (by another process). The change is audited as action
// with reason.
func (s *Service) changeActive(ctx context.Context, action, reason string, id int64, change func(m Membership, now time.Time) (bool, error)) (Membership, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.store.Member(ctx, id)
	if err != nil {
		return Membership{}, err
	}
	now := s.cfg.Now()
	if !m.Active(now) {
		return Membership{}, errNotActive(id)
	}
	ok, err := change(m, now)
	if err != nil {
		return Membership{}, err
	}
	if !ok {
		return Membership{}, errNotActive(id)
	}
	s.cache.Store(nil)
	after, err := s.store.Member(ctx, id)
	if err != nil {
		return Membership{}, err
	}
	if err := s.record(ctx, action, &m, &after, reason); err != nil {
		return Membership{}, err
	}
	return after, nil
}

func errNotActive(id int64) error {
	return fault.Newf(fault.Conflict, "member_not_active", "名单记录 %d 已解除或已到期", "membership %d was lifted or has expired", id)
}

// Today is the service day t falls in under the rules in force.
func (s *Service) Today(ctx context.Context, t time.Time) (network.Date, error) {
	r, err := s.Rules(ctx)
	if err != nil {
		return network.Date{}, err
	}
	d, _ := r.Today(t)
	return d, nil
}

// DayCounts returns a subject's counts on a service day. A document's are
// those of the accounts that count against it (see Ownership).
func (s *Service) DayCounts(ctx context.Context, day network.Date, subject string) (Counts, error) {
	if rest, ok := strings.CutPrefix(subject, "doc:"); ok {
		typ, num, _ := strings.Cut(rest, ":")
		return s.documentCounts(ctx, day, typ, num)
	}
	m, err := s.store.DayCounts(ctx, day, []string{subject})
	if err != nil {
		return Counts{}, err
	}
	return m[subject], nil
}

// Window is the time range and scope of a behaviour report.
type Window struct {
	From, To time.Time
	// Train keeps one service ID ("" for the whole network).
	Train string
}

// CheckWindow validates a report window: From before To, at most 366 days.
func CheckWindow(w Window) error {
	if !w.From.Before(w.To) || w.To.Sub(w.From) > 366*24*time.Hour {
		return fault.New(fault.Invalid, "bad_window", "时间范围须为 1 秒至 366 天，且起点早于终点", "the window must run forward, from 1 second to 366 days")
	}
	if len(w.Train) > 64 {
		return fault.New(fault.Invalid, "bad_train", "车次过长", "the train is too long")
	}
	return nil
}

// Report computes the behaviour findings (G4) over the orders placed in a
// window, for the network or one train.
func (s *Service) Report(ctx context.Context, w Window) (behaviour.Report, error) {
	if err := CheckWindow(w); err != nil {
		return behaviour.Report{}, err
	}
	var a behaviour.Analyzer
	err := s.store.Transactions(ctx, w.From, w.To, w.Train, func(t behaviour.Transaction) error {
		a.Add(t)
		return ctx.Err()
	})
	if err != nil {
		return behaviour.Report{}, err
	}
	return a.Report(), nil
}

// DatesWindow is the window from the start of day from to the end of day to
// (inclusive), in Asia/Shanghai.
func DatesWindow(from, to network.Date, train string) Window {
	return Window{From: from.In(Shanghai), To: to.AddDays(1).In(Shanghai), Train: train}
}

// TrainFinder finds the services of a train number: the network's Store
// and Catalog both do.
type TrainFinder interface {
	ServicesByNumber(ctx context.Context, number string) ([]network.Service, error)
}

// ResolveTrain turns a train number (Z66) or service ID (cr:Z66) into a
// service ID for a report; "" stays "" (the whole network).
func ResolveTrain(ctx context.Context, net TrainFinder, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.Contains(ref, ":") {
		return ref, nil
	}
	svcs, err := net.ServicesByNumber(ctx, ref)
	if err != nil {
		return "", err
	}
	if len(svcs) == 0 {
		return "", fault.Newf(fault.NotFound, "train_not_found", "没有车次 %s", "there is no train %s", ref)
	}
	return svcs[0].ID, nil
}
