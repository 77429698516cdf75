package governance

import "testing"

// An unverified document admits and counts every account; a verified one
// only its holder and the accounts the holder approved.
func TestOwnershipAdmitsAndCounts(t *testing.T) {
	by := map[int64]Counts{1: {Manual: 1}, 2: {Manual: 2, Expired: 1}, 3: {Manual: 3}}
	for _, c := range []struct {
		name  string
		own   Ownership
		admit map[int64]bool
		want  Counts
	}{
		{"unverified", Ownership{}, map[int64]bool{1: true, 2: true, 3: true}, Counts{Manual: 6, Expired: 1}},
		{"holder alone", Ownership{Holder: 1}, map[int64]bool{1: true, 2: false, 3: false}, Counts{Manual: 1}},
		{"holder and one approved", Ownership{Holder: 1, Approved: []int64{2}}, map[int64]bool{1: true, 2: true, 3: false}, Counts{Manual: 3, Expired: 1}},
	} {
		for acct, want := range c.admit {
			if got := c.own.Admits(acct); got != want {
				t.Errorf("%s: Admits(%d) = %v, want %v", c.name, acct, got, want)
			}
		}
		if got := c.own.Count(by); got != c.want {
			t.Errorf("%s: Count = %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestClaimMasked: the audit trail's copy of a claim masks its number as
// every view masks a document of its type, and its name.
func TestClaimMasked(t *testing.T) {
	for _, c := range []struct{ typ, num, want string }{
		{"id_card", "360102199005060321", "3601**********0321"},
		{"passport", "G1234567", "G1****67"},
		{"id_card", "", ""},
	} {
		got := Claim{DocType: c.typ, DocNumber: c.num, Name: "李小娜"}.Masked()
		if got.DocNumber != c.want || got.Name != "李*娜" {
			t.Errorf("%s %q masked as %q, %q; want %q, 李*娜", c.typ, c.num, got.DocNumber, got.Name, c.want)
		}
	}
}
