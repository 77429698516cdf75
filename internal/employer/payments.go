package employer

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"piao/internal/fault"
	"piao/internal/merchant"
	"piao/internal/payment"
	"piao/internal/tenant"
)

// Outcome says what a payment notification did.
type Outcome string

// Outcomes of a notification.
const (
	OutcomePaid      Outcome = "paid"
	OutcomeDuplicate Outcome = "duplicate"
	OutcomeRefunded  Outcome = "refunded" // it came for a closed top-up: the money went back
	OutcomeIgnored   Outcome = "ignored"
)

func buyerOf(m merchant.Merchant) InvoiceBuyer {
	return InvoiceBuyer{Name: m.LegalName, TaxNumber: m.CreditCode}
}

// CreateTopUp orders a top-up of the prepaid balance of the scope's
// employer and creates its gateway payment, payable by the ordering
// account only.
func (s *Service) CreateTopUp(ctx context.Context, scope tenant.Scope, account, amount int64) (TopUp, error) {
	m, err := s.employer(ctx, scope)
	if err != nil {
		return TopUp{}, err
	}
	if s.cfg.Gateway == nil {
		return TopUp{}, ErrMoneyOff
	}
	if amount < MinTopUp || amount > MaxTopUp {
		return TopUp{}, fault.Newf(fault.Invalid, "bad_topup_amount", "充值金额应在 %d 分至 %d 分之间", "a top-up is %d to %d fen", MinTopUp, MaxTopUp)
	}
	r, err := s.store.Rule(ctx, scope, m.ID)
	if err != nil {
		return TopUp{}, err
	}
	if r.Paying != Prepaid {
		return TopUp{}, fault.New(fault.Conflict, "employer_invoiced", "月结企业无需充值：按月账单付款", "an invoiced employer does not top up: it pays its monthly bills")
	}
	now := s.now()
	t := TopUp{Employer: m.ID, AmountFen: amount, Status: Pending, Buyer: buyerOf(m), CreatedBy: account, CreatedAt: now, ExpiresAt: now.Add(PayFor),
		Lines: []ChargeLine{{ZH: "企业通勤补贴预付款", EN: "Travel allowance prepayment", AmountFen: amount}}}
	if err := s.store.CreateTopUp(ctx, scope, &t); err != nil {
		return TopUp{}, err
	}
	pay, err := s.cfg.Gateway.Create(ctx, payment.CreateRequest{
		OrderRef: PaymentRef(false, t.ID), AmountFen: amount, Subject: "通勤补贴预付款 / Travel allowance top-up", Payer: payerOf(account),
		NotifyURL: s.cfg.NotifyURL, ReturnURL: s.cfg.ReturnURL, ExpiresAt: t.ExpiresAt,
	})
	if err != nil {
		if _, cerr := s.store.CloseTopUp(context.WithoutCancel(ctx), t.ID, now, ""); cerr != nil {
			slog.ErrorContext(ctx, "closing a top-up without payment", "topup", t.ID, "err", cerr.Error())
		}
		return TopUp{}, err
	}
	if err := s.store.SetTopUpPayment(ctx, scope, t.ID, pay.ID, pay.PayURL); err != nil {
		return TopUp{}, err
	}
	t.PaymentID, t.PayURL = pay.ID, pay.PayURL
	if err := s.record(ctx, "employer.topup.create", TopUpSubject(t.ID), nil, t, ""); err != nil {
		return TopUp{}, err
	}
	return t, nil
}

func payerOf(account int64) string { return "account:" + strconv.FormatInt(account, 10) }

// TopUps lists the scope's top-ups, newest first.
func (s *Service) TopUps(ctx context.Context, scope tenant.Scope) ([]TopUp, error) {
	m, err := s.employer(ctx, scope)
	if err != nil {
		return nil, err
	}
	return s.store.TopUps(ctx, scope, m.ID, 200)
}

// TopUp returns one of the scope's top-ups.
func (s *Service) TopUp(ctx context.Context, scope tenant.Scope, id int64) (TopUp, error) {
	if _, err := s.employer(ctx, scope); err != nil {
		return TopUp{}, err
	}
	return s.store.TopUp(ctx, scope, id)
}

// HandleNotification applies a verified gateway notification of a top-up
// or a bill exactly once. A paid top-up first adds its amount to the
// allowance campaign's budget (keyed by the top-up, so once), then is
// marked paid with its journal entry in one transaction: a crash between
// the two leaves it pending, and the next delivery adds nothing more and
// marks it. A payment of a closed top-up goes back in full.
func (s *Service) HandleNotification(ctx context.Context, n payment.Notification) (Outcome, error) {
	bill, id, ok := ParseRef(n.OrderRef)
	if !ok {
		return "", errBadRef
	}
	if n.Status != payment.Paid {
		return OutcomeIgnored, nil
	}
	at := n.PaidAt
	if at.IsZero() {
		at = s.now()
	}
	at = at.UTC().Truncate(time.Microsecond)
	if bill {
		return s.payBill(ctx, id, n, at)
	}
	t, err := s.store.TopUp(ctx, tenant.All(), id)
	if err != nil {
		return "", err
	}
	if n.AmountFen != t.AmountFen {
		return "", errAmount
	}
	switch {
	case t.Status == Paid && t.PaymentID == n.PaymentID:
		return OutcomeDuplicate, nil
	case t.Status == Paid || t.Status == Closed:
		return OutcomeRefunded, s.refundLate(ctx, t, n)
	}
	scope := tenant.Merchant(t.Employer)
	r, err := s.store.Rule(ctx, scope, t.Employer)
	if err != nil {
		return "", err
	}
	if _, err := s.cfg.Benefits.AddStock(ctx, scope, r.CampaignID, TopUpSubject(t.ID), 0, t.AmountFen); err != nil {
		if fault.Is(err, fault.Conflict) { // the campaign is over: it takes no more
			if _, cerr := s.store.CloseTopUp(ctx, t.ID, s.now(), ""); cerr != nil {
				return "", cerr
			}
			return OutcomeRefunded, s.refundLate(ctx, t, n)
		}
		return "", err
	}
	org, err := s.cfg.Merchants.Merchant(ctx, scope, t.Employer)
	if err != nil {
		return "", err
	}
	paid, err := s.store.PayTopUp(ctx, t.ID, n.PaymentID, at, TopUpEntry(t, PrepaidOf(org), n.PaymentID, at))
	if err != nil {
		return "", err
	}
	if !paid {
		return OutcomeDuplicate, nil
	}
	after := t
	after.Status, after.PaymentID, after.PaidAt = Paid, n.PaymentID, at
	return OutcomePaid, s.record(ctx, "employer.topup.pay", TopUpSubject(t.ID), t, after, "payment "+n.PaymentID)
}

// refundLate returns a payment that came for a top-up that cannot take it,
// once per payment, and records the refund on the top-up.
func (s *Service) refundLate(ctx context.Context, t TopUp, n payment.Notification) error {
	id := "tu-late-" + n.PaymentID
	if _, err := s.cfg.Gateway.Refund(ctx, payment.RefundRequest{RefundID: id, PaymentID: n.PaymentID, AmountFen: n.AmountFen, Reason: "the top-up was closed"}); err != nil {
		return err
	}
	if t.Status == Closed && t.RefundID == "" {
		_, err := s.store.CloseTopUp(ctx, t.ID, s.now(), id)
		return err
	}
	return nil
}

// Sweep closes the pending top-ups whose payment expired (those the
// gateway says were paid are applied instead).
func (s *Service) Sweep(ctx context.Context) error {
	if s.cfg.Gateway == nil {
		return nil
	}
	due, err := s.store.DueTopUps(ctx, s.now(), 100)
	if err != nil {
		return err
	}
	for _, t := range due {
		if t.PaymentID != "" {
			pay, err := s.cfg.Gateway.Query(ctx, t.PaymentID)
			if err == nil && pay.Status == payment.Paid {
				if _, err := s.HandleNotification(ctx, payment.Notification{ID: "query-" + pay.ID, PaymentID: pay.ID, OrderRef: pay.OrderRef, Status: payment.Paid, AmountFen: pay.AmountFen, PaidAt: pay.PaidAt}); err != nil {
					slog.WarnContext(ctx, "applying a paid top-up", "topup", t.ID, "err", err.Error())
				}
				continue
			}
			if err == nil && pay.Status == payment.Pending {
				continue // the gateway has not closed it yet
			}
		}
		if _, err := s.store.CloseTopUp(ctx, t.ID, s.now(), ""); err != nil {
			return err
		}
	}
	return nil
}

// IssueBills bills every invoiced employer for month m: the amount is what
// the ledger's redemptions drew from its prepaid account in the month. One
// bill per employer and month, posted once, however often it runs; m must
// be over.
func (s *Service) IssueBills(ctx context.Context, m Month) (int, error) {
	if s.now().Before(m.End()) {
		return 0, fault.Newf(fault.Invalid, "month_not_over", "%s 尚未结束，不能出账", "%s is not over yet: it cannot be billed", m)
	}
	rules, err := s.store.Rules(ctx, tenant.All())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rules {
		if r.Paying != Invoiced {
			continue
		}
		scope := tenant.Merchant(r.Employer)
		org, err := s.cfg.Merchants.Merchant(ctx, scope, r.Employer)
		if err != nil {
			return n, err
		}
		amount, err := s.store.Charged(ctx, PrepaidOf(org), Party(r.Employer), m.Start(), m.End())
		if err != nil {
			return n, err
		}
		amount = max(amount, 0)
		b := Bill{Employer: r.Employer, Month: m.String(), AmountFen: amount, Status: Issued, Buyer: buyerOf(org), CreatedAt: s.now(),
			Lines: []ChargeLine{{ZH: "企业通勤补贴 " + m.String() + " 乘车费用", EN: "Travel allowance rides, " + m.String(), AmountFen: amount}}}
		if amount == 0 {
			b.Status = Paid // nothing to pay
		}
		stored, created, err := s.store.CreateBill(ctx, b, BillEntry(b, PrepaidOf(org), m.End()))
		if err != nil {
			return n, err
		}
		if created {
			n++
			if err := s.record(ctx, "employer.bill.issue", BillSubject(stored.ID), nil, stored, ""); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// Bills lists the scope's bills, newest first.
func (s *Service) Bills(ctx context.Context, scope tenant.Scope) ([]Bill, error) {
	m, err := s.employer(ctx, scope)
	if err != nil {
		return nil, err
	}
	return s.store.Bills(ctx, scope, m.ID, 200)
}

// Bill returns one of the scope's bills.
func (s *Service) Bill(ctx context.Context, scope tenant.Scope, id int64) (Bill, error) {
	if _, err := s.employer(ctx, scope); err != nil {
		return Bill{}, err
	}
	return s.store.Bill(ctx, scope, id)
}

// PayBill creates the gateway payment of an issued bill (again, for a
// bill whose payment page was left: the gateway answers the open payment
// of the same reference).
func (s *Service) PayBill(ctx context.Context, scope tenant.Scope, account, id int64) (Bill, error) {
	b, err := s.Bill(ctx, scope, id)
	if err != nil {
		return Bill{}, err
	}
	if s.cfg.Gateway == nil {
		return Bill{}, ErrMoneyOff
	}
	if b.Status != Issued {
		return Bill{}, fault.New(fault.Conflict, "bill_paid", "账单已支付", "the bill is paid already")
	}
	pay, err := s.cfg.Gateway.Create(ctx, payment.CreateRequest{
		OrderRef: PaymentRef(true, b.ID), AmountFen: b.AmountFen, Subject: "通勤补贴账单 " + b.Month + " / Travel allowance bill", Payer: payerOf(account),
		NotifyURL: s.cfg.NotifyURL, ReturnURL: s.cfg.ReturnURL, ExpiresAt: s.now().Add(PayFor),
	})
	if err != nil {
		return Bill{}, err
	}
	if err := s.store.SetBillPayment(ctx, scope, b.ID, pay.ID, pay.PayURL); err != nil {
		return Bill{}, err
	}
	b.PaymentID, b.PayURL = pay.ID, pay.PayURL
	return b, nil
}

// payBill applies a bill's payment: marked paid with its journal entry in
// one transaction, once.
func (s *Service) payBill(ctx context.Context, id int64, n payment.Notification, at time.Time) (Outcome, error) {
	b, err := s.store.Bill(ctx, tenant.All(), id)
	if err != nil {
		return "", err
	}
	if n.AmountFen != b.AmountFen {
		return "", errAmount
	}
	if b.Status == Paid {
		if b.PaymentID == n.PaymentID {
			return OutcomeDuplicate, nil
		}
		// A second payment of a paid bill goes back.
		_, err := s.cfg.Gateway.Refund(ctx, payment.RefundRequest{RefundID: "bill-late-" + n.PaymentID, PaymentID: n.PaymentID, AmountFen: n.AmountFen, Reason: "the bill was paid already"})
		return OutcomeRefunded, err
	}
	ok, err := s.store.PayBill(ctx, b.ID, n.PaymentID, at, BillPaidEntry(b, n.PaymentID, at))
	if err != nil || !ok {
		return OutcomeDuplicate, err
	}
	after := b
	after.Status, after.PaymentID, after.PaidAt = Paid, n.PaymentID, at
	return OutcomePaid, s.record(ctx, "employer.bill.pay", BillSubject(b.ID), b, after, "payment "+n.PaymentID)
}
