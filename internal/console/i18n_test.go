package console

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"piao/internal/benefits"
	"piao/internal/booking"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/ledger"
	"piao/internal/merchant"
	"piao/internal/network"
	"piao/internal/reconcile"
	"piao/internal/sale"
	"piao/internal/subsidy"
)

// Keys the sources name literally: in templates `.T "key"` and
// `.Tf "key" …`; in Go T("key"), Tf("key", …), msg("key") and the
// navigation's Key: "key".
var (
	templateKeyRE = regexp.MustCompile(`\.Tf? "([^"]+)"`)
	goKeyRE       = regexp.MustCompile(`(?:\bTf?|\bmsg)\("([a-z0-9_.]+)"[,)]|Key: +"([a-z0-9_.]+)"`)
	// goFamilyRE finds keys built at run time, "bn.status." + string(s):
	// a family whose members the test enumerates below.
	goFamilyRE = regexp.MustCompile(`(?:\bTf?|\bmsg)\("([a-z0-9_.]+\.)" *\+`)
)

// keyFamilies are the keys the console builds from a prefix and a value of
// the domain, with every value the domain has.
func keyFamilies() map[string][]string {
	strs := func(vs ...string) []string { return vs }
	each := func(n int, f func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	return map[string][]string{
		"role.":          each(len(identity.Roles), func(i int) string { return string(identity.Roles[i]) }),
		"lg.kind.":       strs(string(ledger.Asset), string(ledger.Liability), string(ledger.Equity), string(ledger.Revenue), string(ledger.Expense)),
		"lg.ek.":         ledger.Kinds,
		"rc.kind.":       strs(string(reconcile.Missing), string(reconcile.AmountDiffers), string(reconcile.Duplicate), string(reconcile.FeeDiffers)),
		"rc.source.":     strs("gateway", "file"),
		"sessions.kind.": strs(string(identity.SessionToken), string(identity.APIToken)),
		"bn.kind.":       each(len(benefits.Kinds), func(i int) string { return string(benefits.Kinds[i]) }),
		"bn.theme.":      benefits.Themes,
		"bn.channel.":    each(len(benefits.Channels), func(i int) string { return string(benefits.Channels[i]) }),
		"bn.status.":     strs(string(benefits.Draft), string(benefits.Submitted), string(benefits.Approved), string(benefits.Rejected), string(benefits.Active), string(benefits.Paused), string(benefits.Terminated), string(benefits.Ended)),
		"bn.action.":     strs("create", string(benefits.Submit), string(benefits.Approve), string(benefits.Reject), string(benefits.Pause), string(benefits.Resume), string(benefits.Terminate)),
		"list.":          each(len(governance.Lists), func(i int) string { return string(governance.Lists[i]) }),
		"source.":        strs(string(governance.ByRule), string(governance.ByOperator)),
		"member.":        strs("active", "lifted", "expired"),
		"gov.action.":    strs("add", "renew", "lift", "extend"),
		"gov.f2.":        strs("success", "gave_up"),
		"class.":         strs(string(network.HardSleeper), string(network.SoftSleeper), string(network.SecondClass), string(network.FirstClass), string(network.Business)),
		"berth.":         strs(string(network.Upper), string(network.Middle), string(network.Lower), "any"),
		"status.":        strs(string(booking.Held), string(booking.Paid), string(booking.Cancelled), string(booking.Expired), string(booking.Refunded), string(booking.Changed)),
		"rec.factor.":    each(len(booking.Factors), func(i int) string { return string(booking.Factors[i]) }),
		"wl.status.":     strs(string(booking.WaitUnpaid), string(booking.WaitWaiting), string(booking.WaitFulfilled), string(booking.WaitCancelled), string(booking.WaitExpired)),
		"wl.chance.":     strs("high", "medium", "low"),
		"shop.status.":   strs(string(sale.Pending), string(sale.Paid), string(sale.Closed), "issuing", "returned"),
		"shop.refund_reason.": strs("refund_not_holder", "refund_gifting", "refund_revoked", "refund_used_up", "refund_expired", "refund_not_allowed",
			"refund_deadline_passed", "refund_nothing", "ticket_not_found"),
		"wallet.status.": strs(string(benefits.Usable), string(benefits.NotYet), string(benefits.Used), string(benefits.Expired), string(benefits.Offered), string(benefits.Withdrawn)),
		"wallet.done.":   strs("claimed", "redeemed", "accepted", "declined", "cancelled"),
		"gift.state.":    strs(string(benefits.GiftPending), string(benefits.GiftAccepted), string(benefits.GiftDeclined), string(benefits.GiftReturned), string(benefits.GiftCancelled)),
		"sub.state.":     strs(string(subsidy.Applied), string(subsidy.Active), string(subsidy.Rejected), string(subsidy.Expired), string(subsidy.Revoked)),
		"sub.done.":      strs("verified", "rejected", "revoked"),
		"sub.h5.done.":   strs("applied", "renewal"),
		"route.":         strs("1", "2", "3", "other"),
		"mc.status.":     each(len(merchant.Statuses), func(i int) string { return string(merchant.Statuses[i]) }),
		"mc.action.":     strs(string(merchant.Approve), string(merchant.Reject), string(merchant.RequestInfo), string(merchant.Resubmit), string(merchant.Suspend), string(merchant.Reinstate)),
		"mc.done.":       strs(string(merchant.Approve), string(merchant.Reject), string(merchant.RequestInfo), string(merchant.Suspend), string(merchant.Reinstate)),
		"mc.paper.":      strs(string(merchant.Licence), string(merchant.OtherPaper)),
		"mc.grant.":      each(len(identity.Delegable), func(i int) string { return string(identity.Delegable[i]) }),
		"mc.staff.done.": strs("grants", "disabled", "enabled"),
	}
}

// TestMessagesCoverEveryKey checks that every message key the templates
// and the Go code use exists, with text in both languages, so that no page
// shows a raw ⟦key⟧: the literal keys found in the sources, the families
// of keys built at run time over every value of the domain, and each
// navigation item's description on the workbench.
func TestMessagesCoverEveryKey(t *testing.T) {
	used := map[string]string{} // key → where it is used
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, path)
		for _, m := range templateKeyRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = path
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	families := keyFamilies()
	for _, path := range sources {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKeyRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]+m[2]] = path
		}
		for _, m := range goFamilyRE.FindAllStringSubmatch(string(b), -1) {
			if prefix := m[1]; families[prefix] == nil {
				t.Errorf("%s builds keys %s… at run time: add the family and its values to keyFamilies", path, prefix)
			}
		}
	}
	for prefix, values := range families {
		for _, v := range values {
			used[prefix+v] = "keyFamilies"
		}
	}
	for _, it := range navigation {
		if it.Path != "/" { // the workbench lists every section but itself
			used[it.Key+".desc"] = "the workbench's card of " + it.Key
		}
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in the sources: the patterns no longer match them", len(used))
	}
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.Contains(k, "%") {
			continue // a format, not a key: printf "%s.desc"
		}
		m, ok := messages[k]
		switch {
		case !ok:
			t.Errorf("%s uses the message %q, which the catalog lacks", used[k], k)
		case strings.TrimSpace(m.ZH) == "" || strings.TrimSpace(m.EN) == "":
			t.Errorf("message %q lacks a language: %+v", k, m)
		}
	}
}

// TestMissingKeyShows checks the fallback the crawl looks for: a missing
// key shows as ⟦key⟧ in both languages.
func TestMissingKeyShows(t *testing.T) {
	if got := en.T("no.such.key"); got != "⟦no.such.key⟧" {
		t.Errorf("en.T of a missing key = %q", got)
	}
	if got := msg("no.such.key"); got.ZH != "⟦no.such.key⟧" || got.EN != got.ZH {
		t.Errorf("msg of a missing key = %+v", got)
	}
}

// TestCityName: stations name their city in Chinese only, so the English
// name comes from the city's namesake station, or the pinyin of a station
// named after it.
func TestCityName(t *testing.T) {
	nanchang := network.Station{NameZH: "南昌", NameEN: "Nanchang", Pinyin: "nan chang", City: "南昌"}
	nanchangWest := network.Station{NameZH: "南昌西", NameEN: "Nanchang West", Pinyin: "nan chang xi", City: "南昌"}
	zhengzhouEast := network.Station{NameZH: "郑州东", NameEN: "Zhengzhou East", Pinyin: "zheng zhou dong", City: "郑州"}
	odd := network.Station{NameZH: "东站", Pinyin: "dong zhan", City: "某市"}
	for _, c := range []struct {
		city     string
		stations []network.Station
		l        lang
		want     string
	}{
		{"南昌", []network.Station{nanchangWest, nanchang}, en, "Nanchang"},
		{"南昌", []network.Station{nanchangWest, nanchang}, zh, "南昌"},
		{"郑州", []network.Station{zhengzhouEast}, en, "Zhengzhou"},
		{"某市", []network.Station{odd}, en, "某市"},
	} {
		if got := cityName(c.city, c.stations, c.l); got != c.want {
			t.Errorf("cityName(%s, %s) = %q, want %q", c.city, c.l, got, c.want)
		}
	}
}
