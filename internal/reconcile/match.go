// Package reconcile matches a day's money three ways — the payment
// channel's statement, piao's business records and the ledger — by the
// channel's transaction ID, and keeps every run with the differences it
// found, to the fen. It also builds merchants' and employers' monthly
// statements from the ledger.
//
// Matching is pure (Match); the Service gathers the three sides through
// ports, posts the day's channel fees to the ledger once, and stores each
// run. A run is never changed: running a day again adds a run.
package reconcile

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"piao/internal/payment"
)

// Side is one of the three accounts of a day's money.
type Side string

// The sides, in the order they are shown.
const (
	Statement Side = "statement" // the channel's daily statement
	Orders    Side = "piao"      // piao's business records of money through the gateway
	Ledger    Side = "ledger"    // journal entries with the channel's ID, their gateway-clearing amount
)

// Sides lists the sides in order.
var Sides = []Side{Statement, Orders, Ledger}

// Record is one money movement as one side tells it.
type Record struct {
	Side      Side             `json:"side"`
	Type      payment.LineType `json:"type"`     // payment or refund
	External  string           `json:"external"` // the channel's payment ID or refund ID
	AmountFen int64            `json:"amount_fen"`
	At        time.Time        `json:"at"`
	// Ref says where to look on that side: the merchant order reference
	// on the statement, the business record ("order:9", "ticket:12",
	// "purchase:3") in piao, the entry ("entry:41") in the ledger.
	Ref string `json:"ref"`
}

// Kind is what a difference is.
type Kind string

// Kinds of difference.
const (
	Missing       Kind = "missing"        // on some sides and not on others
	AmountDiffers Kind = "amount_differs" // the sides holding it disagree on the amount
	Duplicate     Kind = "duplicate"      // one side holds the same ID more than once
	FeeDiffers    Kind = "fee_differs"    // the day's fees are posted already, at another amount
)

// Difference is one thing that does not agree.
type Difference struct {
	Kind     Kind             `json:"kind"`
	Type     payment.LineType `json:"type,omitempty"`
	External string           `json:"external"`
	// Sides are the sides the difference is about: for Missing those
	// without the record, for Duplicate the side holding it more than
	// once, for AmountDiffers and FeeDiffers the sides compared.
	Sides []Side `json:"sides"`
	// Amounts is what each side holding the record says, in fen (its
	// first record, by amount, on a side holding it twice).
	Amounts map[Side]int64 `json:"amounts"`
	// Count is how many times a Duplicate's side holds the ID.
	Count int `json:"count,omitempty"`
	// Refs are where to look: the records' Ref on each side, "side:ref".
	Refs []string `json:"refs,omitempty"`
}

// Text describes the difference in lang ("zh" or "en").
func (d Difference) Text(lang string) string {
	amounts := make([]string, 0, len(d.Amounts))
	for _, s := range Sides {
		if a, ok := d.Amounts[s]; ok {
			amounts = append(amounts, SideName(s, lang)+" "+payment.Yuan(a))
		}
	}
	names := make([]string, len(d.Sides))
	for i, s := range d.Sides {
		names[i] = SideName(s, lang)
	}
	what := TypeName(d.Type, lang)
	if lang == "zh" {
		switch d.Kind {
		case Missing:
			return fmt.Sprintf("%s %s 在%s中缺失（%s）", what, d.External, strings.Join(names, "、"), strings.Join(amounts, "，"))
		case AmountDiffers:
			return fmt.Sprintf("%s %s 金额不符：%s", what, d.External, strings.Join(amounts, "，"))
		case Duplicate:
			return fmt.Sprintf("%s %s 在%s中重复 %d 次", what, d.External, strings.Join(names, "、"), d.Count)
		case FeeDiffers:
			return fmt.Sprintf("当日手续费 %s 已按不同金额入账：%s", d.External, strings.Join(amounts, "，"))
		}
		return string(d.Kind)
	}
	switch d.Kind {
	case Missing:
		return fmt.Sprintf("%s %s missing from %s (%s)", what, d.External, strings.Join(names, ", "), strings.Join(amounts, ", "))
	case AmountDiffers:
		return fmt.Sprintf("%s %s amounts differ: %s", what, d.External, strings.Join(amounts, ", "))
	case Duplicate:
		return fmt.Sprintf("%s %s appears %d times in %s", what, d.External, d.Count, strings.Join(names, ", "))
	case FeeDiffers:
		return fmt.Sprintf("the day's fees %s are posted already at another amount: %s", d.External, strings.Join(amounts, ", "))
	}
	return string(d.Kind)
}

// SideName names a side in lang.
func SideName(s Side, lang string) string {
	if lang == "zh" {
		switch s {
		case Statement:
			return "渠道对账单"
		case Orders:
			return "业务记录"
		case Ledger:
			return "总账"
		}
	}
	switch s {
	case Statement:
		return "the statement"
	case Orders:
		return "piao's records"
	case Ledger:
		return "the ledger"
	}
	return string(s)
}

// TypeName names a line type in lang.
func TypeName(t payment.LineType, lang string) string {
	switch {
	case lang == "zh" && t == payment.LineRefund:
		return "退款"
	case lang == "zh":
		return "支付"
	case t == payment.LineRefund:
		return "refund"
	}
	return "payment"
}

// key is what records match by: the type and the channel's ID.
type key struct {
	typ payment.LineType
	ext string
}

// Match compares the records of the three sides and returns every
// difference, ordered by ID, type and kind. Each ID and type gives at most
// one Missing, one AmountDiffers, and one Duplicate per side holding it
// twice; records that agree give none.
func Match(records []Record) []Difference {
	groups := map[key]map[Side][]Record{}
	for _, r := range records {
		k := key{r.Type, r.External}
		if groups[k] == nil {
			groups[k] = map[Side][]Record{}
		}
		groups[k][r.Side] = append(groups[k][r.Side], r)
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].ext != keys[j].ext {
			return keys[i].ext < keys[j].ext
		}
		return keys[i].typ < keys[j].typ
	})
	var out []Difference
	for _, k := range keys {
		g := groups[k]
		amounts := map[Side]int64{}
		var refs []string
		var present, absent []Side
		for _, s := range Sides {
			rs := g[s]
			if len(rs) == 0 {
				absent = append(absent, s)
				continue
			}
			slices.SortFunc(rs, func(a, b Record) int {
				if a.AmountFen != b.AmountFen {
					return compare(a.AmountFen, b.AmountFen)
				}
				return strings.Compare(a.Ref, b.Ref)
			})
			present = append(present, s)
			amounts[s] = rs[0].AmountFen
			for _, r := range rs {
				refs = append(refs, string(s)+":"+r.Ref)
			}
		}
		base := Difference{Type: k.typ, External: k.ext, Amounts: amounts, Refs: refs}
		if len(absent) > 0 {
			d := base
			d.Kind, d.Sides = Missing, absent
			out = append(out, d)
		}
		if len(present) > 1 {
			differ := false
			for _, s := range present[1:] {
				differ = differ || amounts[s] != amounts[present[0]]
			}
			if differ {
				d := base
				d.Kind, d.Sides = AmountDiffers, present
				out = append(out, d)
			}
		}
		for _, s := range present {
			if n := len(g[s]); n > 1 {
				d := base
				d.Kind, d.Sides, d.Count = Duplicate, []Side{s}, n
				out = append(out, d)
			}
		}
	}
	return out
}

func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func itoa(n int64) string { return fmt.Sprint(n) }
