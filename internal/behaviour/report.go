package behaviour

import (
	"fmt"
	"strconv"
	"time"
)

// Report holds the paper's findings computed over the transactions fed to
// an Analyzer (a window, a network or one train: whatever the caller fed).
//
// "Passengers" are distinct Transaction.Passenger keys, whatever account
// booked for them. A "cancel" is a manual cancel (Outcome Cancelled);
// expiries (自动返库) are counted apart and are never cancels. A
// passenger's "transactions" are all of them: paid, cancelled, expired and
// pending.
type Report struct {
	Totals Totals `json:"totals"`
	// ConsecutiveCancels is finding (1), F1.
	ConsecutiveCancels Share `json:"consecutive_cancels"`
	// CancelsBefore is finding (2), F2.
	CancelsBefore CancelsBefore `json:"cancels_before_outcome"`
	// PersistentNoPay is finding (3), F3.
	PersistentNoPay Share `json:"persistent_no_pay"`
	// CancellerSuccess is the first half of finding (4), F4a.
	CancellerSuccess Share `json:"canceller_success"`
	// MostlyCancels is the second half of finding (4), F4b.
	MostlyCancels Share `json:"mostly_cancels"`
	// AllCancelled is finding (5), F5.
	AllCancelled Share `json:"all_cancelled"`
	// Malicious is finding (6), F6.
	Malicious Share `json:"suspected_malicious"`
	// PaidShare is Fig. 1.
	PaidShare Distribution `json:"paid_share"`
	// Accounts and MultiAccount are the accounts used per passenger.
	Accounts     Distribution `json:"accounts_per_passenger"`
	MultiAccount Share        `json:"multi_account"`
}

// Totals counts what was analysed.
type Totals struct {
	Transactions int64 `json:"transactions"`
	Passengers   int64 `json:"passengers"`
	Accounts     int64 `json:"accounts"` // distinct booking accounts
	Paid         int64 `json:"paid"`
	Cancelled    int64 `json:"cancelled"` // manual cancels
	Expired      int64 `json:"expired"`
	Pending      int64 `json:"pending"`
	// FirstAt and LastAt are the earliest and latest At fed; zero (and
	// left out of JSON) when nothing was.
	FirstAt time.Time `json:"first_at,omitzero"`
	LastAt  time.Time `json:"last_at,omitzero"`
}

// Text is a text in Simplified Chinese and in English.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Share is a finding that counts passengers: Numerator of Denominator
// passengers, where Of says which passengers the denominator counts.
type Share struct {
	Key         string `json:"key"` // "F1", "F3", "F4a", …
	Label       Text   `json:"label"`
	Definition  Text   `json:"definition"`
	Numerator   int64  `json:"numerator"`
	Denominator int64  `json:"denominator"`
	Of          Text   `json:"denominator_of"`
	// Share is Numerator / Denominator, in [0, 1]. Defined is false when
	// Denominator is 0, and Share is then 0.
	Share   float64 `json:"share"`
	Defined bool    `json:"defined"`
}

// Distribution splits Denominator passengers into buckets.
type Distribution struct {
	Key         string   `json:"key"`
	Label       Text     `json:"label"`
	Definition  Text     `json:"definition"`
	Denominator int64    `json:"denominator"`
	Of          Text     `json:"denominator_of"`
	Buckets     []Bucket `json:"buckets"`
}

// Bucket is one bar of a distribution or histogram: Count of the
// distribution's denominator, Share = Count / denominator (0 if that is 0).
type Bucket struct {
	Key   string  `json:"key"`
	Label Text    `json:"label"`
	Count int64   `json:"count"`
	Share float64 `json:"share"`
}

// CancelsBefore is F2, the number of manual cancels before a passenger
// succeeds or gives up, per episode: one passenger's one travel date.
type CancelsBefore struct {
	Key        string `json:"key"` // "F2"
	Label      Text   `json:"label"`
	Definition Text   `json:"definition"`
	// Success are episodes with a payment, counting the cancels before the
	// first one; GaveUp are episodes without payment or pending hold,
	// counting all their cancels.
	Success Episodes `json:"success"`
	GaveUp  Episodes `json:"gave_up"`
	// Open counts episodes with a cancel, a pending hold and no payment:
	// not decided yet, so in neither group.
	Open int64 `json:"open"`
}

// Episodes summarises the cancel counts of a group of episodes.
type Episodes struct {
	Episodes int64 `json:"episodes"`
	// Median and P90 are nearest-rank: the ⌈n/2⌉-th and ⌈0.9n⌉-th
	// smallest counts. Defined is false when there is no episode, and the
	// statistics are then 0.
	Median  int64   `json:"median"`
	Mean    float64 `json:"mean"`
	P90     int64   `json:"p90"`
	Defined bool    `json:"defined"`
	// Histogram has buckets "0" to "20" and ">20", shares of Episodes.
	Histogram []Bucket `json:"histogram"`
}

// Shares lists the passenger-counting findings in display order.
func (r Report) Shares() []Share {
	return []Share{r.ConsecutiveCancels, r.PersistentNoPay, r.CancellerSuccess,
		r.MostlyCancels, r.AllCancelled, r.Malicious, r.MultiAccount}
}

var (
	allPassengers = Text{"全部乘车人", "all passengers"}
	cancellers    = Text{"有手工取消的乘车人", "passengers who cancelled"}
)

// counts are the figures of a report, gathered by Analyzer.Report.
type counts struct {
	passengers, transactions, paid, cancelled, expired, pending int64

	cancellers, run, persistent, cancellerPaid int64
	mostly, allCancelled, malicious, multi     int64

	paidShare    [11]int64             // Fig. 1 buckets, see paidBucket
	accountsUsed [accountBuckets]int64 // 1, 2, 3, 4, 5+ accounts
	success      tally                 // F2 successful episodes
	gaveUp       tally                 // F2 given-up episodes
	open         int64                 // F2 undecided episodes
	accounts     int64                 // distinct accounts
	first, last  time.Time             // window
}

// add counts one passenger.
func (c *counts) add(s summary) {
	tx := s.paid + s.cancelled + s.expired + s.pending
	c.passengers++
	c.transactions += tx
	c.paid += s.paid
	c.cancelled += s.cancelled
	c.expired += s.expired
	c.pending += s.pending
	if s.cancelled > 0 {
		c.cancellers++
		if s.run {
			c.run++
		}
		if s.paid > 0 {
			c.cancellerPaid++
		}
		if s.paid == 0 && s.pending == 0 {
			c.allCancelled++
		}
	}
	if s.cancelled > persistentCancels && s.paid == 0 {
		c.persistent++
	}
	if 100*s.cancelled >= mostlyPercent*tx {
		c.mostly++
	}
	if s.cancelled > maliciousCancels {
		c.malicious++
	}
	c.paidShare[paidBucket(s.paid, tx)]++
	c.accountsUsed[s.accounts-1]++
	if s.accounts >= 2 {
		c.multi++
	}
}

// paidBucket is the Fig. 1 bucket of paid out of tx transactions: 0 for
// none, else b for a share in ((b-1)·10 %, b·10 %], so 10 for (90 %, 100 %].
func paidBucket(paid, tx int64) int {
	if paid == 0 {
		return 0
	}
	return int((10*paid + tx - 1) / tx) // ⌈10·paid/tx⌉, in integers to be exact at the edges
}

// episode counts one F2 episode from its events, in order of At.
func (c *counts) episode(evs []event) {
	var before, all int64
	paid, pending := false, false
	for _, e := range evs {
		switch e.outcome {
		case Cancelled:
			all++
			if !paid {
				before++
			}
		case Paid:
			paid = true
		default:
			pending = true
		}
	}
	switch {
	case all == 0:
	case paid:
		c.success.add(before)
	case pending:
		c.open++
	default:
		c.gaveUp.add(all)
	}
}

// tally counts episodes by number of cancels: t[v] episodes had v.
type tally []int64

func (t *tally) add(v int64) {
	for int64(len(*t)) <= v {
		*t = append(*t, 0)
	}
	(*t)[v]++
}

// episodes summarises the tally.
func (t tally) episodes() Episodes {
	var n, sum int64
	var hist [histogramCap + 2]int64
	for v, k := range t {
		n += k
		sum += int64(v) * k
		hist[min(v, histogramCap+1)] += k
	}
	e := Episodes{Episodes: n, Defined: n > 0}
	for v, k := range hist {
		key := strconv.Itoa(v)
		if v > histogramCap {
			key = ">" + strconv.Itoa(histogramCap)
		}
		label := Text{key + " 次", key + " cancels"}
		if v == 1 {
			label.EN = "1 cancel"
		}
		e.Histogram = append(e.Histogram, Bucket{key, label, k, ratio(k, n)})
	}
	if n > 0 {
		e.Mean = float64(sum) / float64(n)
		e.Median = t.rank((n + 1) / 2)
		e.P90 = t.rank((9*n + 9) / 10)
	}
	return e
}

// rank is the r-th smallest count, from 1.
func (t tally) rank(r int64) int64 {
	var seen int64
	for v, k := range t {
		seen += k
		if seen >= r {
			return int64(v)
		}
	}
	return int64(len(t) - 1)
}

// ratio is num/den, 0 when den is 0.
func ratio(num, den int64) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

func share(key string, label, def, of Text, num, den int64) Share {
	return Share{Key: key, Label: label, Definition: def, Numerator: num, Denominator: den, Of: of,
		Share: ratio(num, den), Defined: den > 0}
}

func (c *counts) report() Report {
	r := Report{
		Totals: Totals{Transactions: c.transactions, Passengers: c.passengers, Accounts: c.accounts,
			Paid: c.paid, Cancelled: c.cancelled, Expired: c.expired, Pending: c.pending,
			FirstAt: c.first, LastAt: c.last},
		ConsecutiveCancels: share("F1",
			Text{"连续手工取消3次及以上的乘车人占比", "Cancelling passengers with 3 or more consecutive cancels"},
			Text{"在有手工取消的乘车人中，其全部交易（不分车次、乘车日期和订票账号）按下单时间排列后，出现至少3次连续手工取消的人数占比。只有支付成功会中断连续；自动返库和待支付的交易跳过，不中断也不计数。",
				"Among passengers with at least one manual cancel: the share whose transactions, in order of placement across all trains, travel dates and accounts, contain a run of at least 3 manual cancels. Only a paid transaction breaks a run; expiries and pending holds are skipped: they neither break nor extend it."},
			cancellers, c.run, c.cancellers),
		CancelsBefore: CancelsBefore{Key: "F2",
			Label: Text{"成功购票或放弃前的手工取消次数", "Manual cancels before success or giving up"},
			Definition: Text{"一个购票过程是同一乘车人的同一乘车日期（不分车次和订票账号）。成功的过程（有支付）计首次支付前的手工取消次数；放弃的过程（无支付、无待支付）计全部手工取消次数；有待支付而无支付的过程未结束，单独计数。只统计至少有1次手工取消的过程。中位数与P90取最近秩：第⌈n/2⌉与第⌈0.9n⌉小的值。",
				"An episode is one passenger's travel date, across trains and accounts. A successful episode (one with a payment) counts the manual cancels before its first payment; a given-up episode (no payment, no pending hold) counts all its manual cancels; an episode with a pending hold and no payment is open and counted apart. Only episodes with at least one manual cancel are counted. Median and p90 are nearest-rank: the ⌈n/2⌉-th and ⌈0.9n⌉-th smallest counts."},
			Success: c.success.episodes(), GaveUp: c.gaveUp.episodes(), Open: c.open},
		PersistentNoPay: share("F3",
			Text{"手工取消超过20次且无支付的乘车人占比", "Passengers with more than 20 cancels and no payment"},
			Text{"在全部乘车人中，手工取消次数大于20且没有任何支付成功交易的人数占比。",
				"Among all passengers: the share with more than 20 manual cancels and no paid transaction."},
			allPassengers, c.persistent, c.passengers),
		CancellerSuccess: share("F4a",
			Text{"有手工取消的乘车人的购票成功率", "Success rate of passengers who cancelled"},
			Text{"在有手工取消的乘车人中，至少有1笔支付成功交易的人数占比。",
				"Among passengers with at least one manual cancel: the share with at least one paid transaction."},
			cancellers, c.cancellerPaid, c.cancellers),
		MostlyCancels: share("F4b",
			Text{"手工取消占本人交易60%及以上的乘车人占比", "Passengers whose cancels are 60 % or more of their transactions"},
			Text{"在全部乘车人中，手工取消笔数不少于本人交易总笔数（支付、取消、返库、待支付）60%的人数占比。",
				"Among all passengers: the share whose manual cancels are at least 60 % of all their transactions (paid, cancelled, expired and pending)."},
			allPassengers, c.mostly, c.passengers),
		AllCancelled: share("F5",
			Text{"订单全部取消且未支付的乘车人占比", "Passengers who cancelled everything and never paid"},
			Text{"在全部乘车人中，每笔交易都是手工取消或自动返库、且至少有1笔手工取消的人数占比（即无支付、无待支付）。",
				"Among all passengers: the share whose every transaction was cancelled by hand or expired, with at least one manual cancel (so none paid and none pending)."},
			allPassengers, c.allCancelled, c.passengers),
		Malicious: share("F6",
			Text{"手工取消超过100次的乘车人（疑似恶意）", "Passengers with more than 100 cancels (suspected malicious)"},
			Text{"在全部乘车人中，手工取消次数大于100的人数及占比。",
				"Among all passengers: the number and share with more than 100 manual cancels."},
			allPassengers, c.malicious, c.passengers),
		PaidShare: Distribution{Key: "fig1",
			Label: Text{"按支付交易占比的乘车人分布（图1）", "Passengers by share of paid transactions (Fig. 1)"},
			Definition: Text{"每位乘车人的支付占比 = 支付成功笔数 ÷ 本人交易总笔数（支付、取消、返库、待支付）。分组：恰为0%，(0%,10%]，(10%,20%]，…，(90%,100%]。",
				"Each passenger's paid share = paid transactions ÷ all their transactions (paid, cancelled, expired and pending). Buckets: exactly 0 %, (0 %, 10 %], (10 %, 20 %], …, (90 %, 100 %]."},
			Denominator: c.passengers, Of: allPassengers},
		Accounts: Distribution{Key: "accounts",
			Label:       Text{"每位乘车人使用的订票账号数", "Booking accounts used per passenger"},
			Definition:  Text{"为同一乘车人下单的不同订票账号个数：1、2、3、4、5个及以上。", "The number of distinct booking accounts that placed a passenger's orders: 1, 2, 3, 4, 5 or more."},
			Denominator: c.passengers, Of: allPassengers},
		MultiAccount: share("multi_account",
			Text{"使用2个及以上订票账号的乘车人占比", "Passengers booked by 2 or more accounts"},
			Text{"在全部乘车人中，由至少2个不同订票账号下单的人数占比。",
				"Among all passengers: the share whose orders were placed by at least 2 distinct booking accounts."},
			allPassengers, c.multi, c.passengers),
	}
	for b, n := range c.paidShare {
		key, label := "0", Text{"0%", "0 %"}
		if b > 0 {
			key = fmt.Sprintf("%d-%d", 10*(b-1), 10*b)
			label = Text{fmt.Sprintf("(%d%%,%d%%]", 10*(b-1), 10*b), fmt.Sprintf("(%d %%, %d %%]", 10*(b-1), 10*b)}
		}
		r.PaidShare.Buckets = append(r.PaidShare.Buckets, Bucket{key, label, n, ratio(n, c.passengers)})
	}
	for b, n := range c.accountsUsed {
		accounts := strconv.Itoa(b + 1)
		key, label := accounts, Text{accounts + " 个", accounts + " accounts"}
		switch b + 1 {
		case 1:
			label.EN = "1 account"
		case accountBuckets:
			key, label = accounts+"+", Text{accounts + " 个及以上", accounts + " or more accounts"}
		}
		r.Accounts.Buckets = append(r.Accounts.Buckets, Bucket{key, label, n, ratio(n, c.passengers)})
	}
	return r
}
