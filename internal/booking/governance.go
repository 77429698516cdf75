package booking

import (
	"context"
	"time"

	"piao/internal/governance"
	"piao/internal/realname"
)

// rules returns the governance rules in force, nil when governance is off.
func (s *Service) rules(ctx context.Context) (*governance.Rules, error) {
	if s.cfg.Governance == nil {
		return nil, nil
	}
	r, _, err := s.cfg.Governance.Screen(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// screen applies the lists to a prepared booking before it competes for
// seats: a blocking list refuses it, a slow lane makes it wait, a list may
// shorten the hold. The daily limits are checked later, under the account
// lock, by checkLimits.
func (s *Service) screen(ctx context.Context, accountID int64, p *plan) error {
	if s.cfg.Governance == nil {
		return nil
	}
	subjects := make([]string, 0, 1+len(p.passengers))
	subjects = append(subjects, governance.AccountSubject(accountID))
	for _, pass := range p.passengers {
		subjects = append(subjects, governance.DocumentSubject(string(pass.DocType), pass.DocNumber))
	}
	rules, v, err := s.cfg.Governance.Screen(ctx, subjects)
	if err != nil {
		return err
	}
	p.rules = &rules
	if v.Block {
		for _, m := range v.Members {
			if rules.Lists.Effects[m.List].Block {
				return governance.BlockedError(m)
			}
		}
	}
	if v.Hold > 0 && v.Hold < p.hold {
		p.hold = v.Hold
	}
	if v.Delay > 0 {
		t := time.NewTimer(v.Delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// document is a passenger's travel document and name, as ownership checks
// need them.
type document struct{ docType, number, name string }

// admit refuses a booking of a document whose verified holder has not
// approved the account, links the other documents to the account's
// passenger list, and returns each document's ownership. It runs in the
// booking's transaction, so the link exists once the booking does.
func admit(tx Tx, accountID int64, docs []document, now time.Time) ([]governance.Ownership, error) {
	owns := make([]governance.Ownership, len(docs))
	for i, d := range docs {
		own, err := tx.DocumentOwnership(d.docType, d.number)
		if err != nil {
			return nil, err
		}
		if !own.Admits(accountID) {
			return nil, governance.NotApprovedError(i, realname.MaskName(d.name))
		}
		if err := tx.LinkDocument(accountID, d.docType, d.number, now); err != nil {
			return nil, err
		}
		owns[i] = own
	}
	return owns, nil
}

// planDocuments lists a plan's passengers' documents.
func planDocuments(p *plan) []document {
	docs := make([]document, len(p.passengers))
	for i, pass := range p.passengers {
		docs[i] = document{string(pass.DocType), pass.DocNumber, pass.Name}
	}
	return docs
}

// checkLimits refuses a booking by an account, or for a passenger, that has
// used the day's cancels, and returns warnings for passengers near their
// limit. It runs in the booking's transaction after the account is locked,
// so a cancel and a booking of one account cannot both slip past the limit.
// A passenger's count is that of the accounts their ownership admits.
func (s *Service) checkLimits(b *batch, accountID int64, p *plan, owns []governance.Ownership) ([]governance.Warning, error) {
	if p.rules == nil {
		return nil, nil
	}
	day, ends := p.rules.Today(s.cfg.Now())
	c, err := b.tx.DayCounts(governance.AccountSubject(accountID), day)
	if err != nil {
		return nil, err
	}
	if err := p.rules.CheckAccount(c, ends); err != nil {
		return nil, err
	}
	var warnings []governance.Warning
	for i, pass := range p.passengers {
		by, err := b.tx.DocumentDayCounts(string(pass.DocType), pass.DocNumber, day)
		if err != nil {
			return nil, err
		}
		w, err := p.rules.CheckDocument(i, realname.MaskName(pass.Name), owns[i].Count(by), ends)
		if err != nil {
			return nil, err
		}
		if w != nil {
			warnings = append(warnings, *w)
		}
	}
	return warnings, nil
}

// countEndedHold adds a cancelled or expired order to the day's counts of
// its account and of its passengers' documents by that account, and
// returns the warnings a cancel brings. A cancel by an account a
// document's verified holder does not admit (booked before the holder
// verified it) counts for the account only.
func countEndedHold(tx Tx, rules *governance.Rules, o Order, now time.Time) ([]governance.Warning, error) {
	manual, expired := 1, 0
	if o.Status == Expired {
		manual, expired = 0, 1
	}
	day, ends := rules.Today(now)
	var warnings []governance.Warning
	c, err := tx.AddDayCounts(governance.AccountSubject(o.AccountID), day, manual, expired)
	if err != nil {
		return nil, err
	}
	if w := rules.AccountWarning(c, ends); w != nil && manual == 1 {
		warnings = append(warnings, *w)
	}
	for _, t := range o.Tickets {
		if err := tx.AddDocumentDayCounts(t.DocType, t.DocNumber, o.AccountID, day, manual, expired); err != nil {
			return nil, err
		}
		if manual == 0 {
			continue
		}
		own, err := tx.DocumentOwnership(t.DocType, t.DocNumber)
		if err != nil {
			return nil, err
		}
		if !own.Admits(o.AccountID) {
			continue
		}
		by, err := tx.DocumentDayCounts(t.DocType, t.DocNumber, day)
		if err != nil {
			return nil, err
		}
		if w := rules.CancelWarning(realname.MaskName(t.PassengerName), own.Count(by)); w != nil {
			warnings = append(warnings, *w)
		}
	}
	return warnings, nil
}
