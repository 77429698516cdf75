package httpapi_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"piao/internal/identity"
)

// TestCampaignStatsExport: a campaign's statistics download as CSV (the
// default) and as XLSX, for the merchant and the operator; another format
// is refused.
func TestCampaignStatsExport(t *testing.T) {
	s := newTestServer(t)
	f := newMerchantFixture(t, s.app, 1, purchaseTemplate(t, s.app))
	merchant, admin := s.token(t, identity.MerchantAdmin), s.token(t, identity.OperatorAdmin)
	for _, c := range []struct{ path, token string }{
		{fmt.Sprintf("/api/v1/merchant/campaigns/%d/stats.csv", f.Campaign.ID), merchant},
		{fmt.Sprintf("/api/v1/campaigns/%d/stats.csv", f.Campaign.ID), admin},
	} {
		res := s.do(t, "GET", c.path, c.token, nil)
		if res.status != 200 || !strings.HasPrefix(string(res.body), "\ufeffhour,issued,rides") || !strings.Contains(string(res.body), "total,0,0") {
			t.Fatalf("%s CSV: %d %s", c.path, res.status, res.body)
		}
		res = s.do(t, "GET", c.path+"?format=xlsx", c.token, nil)
		if res.status != 200 || !strings.Contains(res.header.Get("Content-Type"), "spreadsheetml") || !strings.Contains(res.header.Get("Content-Disposition"), ".xlsx") {
			t.Fatalf("%s XLSX: %d %v", c.path, res.status, res.header)
		}
		x, err := excelize.OpenReader(bytes.NewReader(res.body))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows("stats")
		if err != nil || len(rows) < 2 || rows[0][0] != "hour" || rows[len(rows)-1][0] != "total" {
			t.Fatalf("%s XLSX rows %v %v", c.path, rows, err)
		}
		if res := s.do(t, "GET", c.path+"?format=pdf", c.token, nil); res.status < 400 || res.status >= 500 {
			t.Fatalf("%s format=pdf: %d", c.path, res.status)
		}
	}
}
