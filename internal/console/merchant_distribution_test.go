package console_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/identity"
	"piao/internal/tenant"
)

// distributedCampaign makes an approved, funded campaign of merchant that
// issues by claim, code and list.
func distributedCampaign(t *testing.T, e *env, merchant int64, name string) benefits.Campaign {
	t.Helper()
	ctx, bn := context.Background(), e.app.Benefits
	scope, actor := tenant.Merchant(merchant), fmt.Sprintf("account:%d (merchant)", 900+merchant)
	p, err := bn.CreateProduct(ctx, scope, benefits.Product{Kind: benefits.AmountOff, NameZH: name + "券", Feed: "nbmetro",
		Terms: benefits.Terms{AmountOff: 200}, Valid: benefits.Validity{Days: 10}}, "", actor)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c, err := bn.CreateCampaign(ctx, scope, benefits.Campaign{ProductID: p.ID, NameZH: name, Starts: now.Add(-time.Hour), Ends: now.Add(48 * time.Hour),
		Channels: []benefits.Channel{benefits.ClaimChannel, benefits.CodeChannel, benefits.DirectChannel}, PerUser: 1}, "", actor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bn.AddStock(ctx, scope, c.ID, "seed-"+name, 50, 10_000); err != nil {
		t.Fatal(err)
	}
	if _, err := bn.Act(ctx, scope, c.ID, benefits.Submit, actor, ""); err != nil {
		t.Fatal(err)
	}
	if c, err = bn.Act(ctx, tenant.All(), c.ID, benefits.Approve, "account:1 (admin)", ""); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMerchantDistribution: the merchant issues to an uploaded list and
// revokes a line; a bad list is refused with its errors by line and
// column and nothing issued; code batches are made, exported and voided;
// the claim poster holds the claim link; merchant 2's campaign, list and
// poster are not found; staff without the grant get 403.
func TestMerchantDistribution(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mine := distributedCampaign(t, e, 1, "商场名单活动")
	theirs := distributedCampaign(t, e, 2, "银行名单活动")
	a1, _ := e.newPassenger(t, "mdone")
	a2, _ := e.newPassenger(t, "mdtwo")
	cl := e.as(t, identity.MerchantAdmin)

	resp, body := cl.get("/merchant/distribution")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `href="/merchant/distribution" aria-current="page"`, "商场名单活动", `id="upload-form"`, fmt.Sprintf("/h5/campaigns/%d", mine.ID))
	if strings.Contains(body, "银行名单活动") {
		t.Error("the distribution page shows merchant 2's campaign")
	}
	csrf := csrfIn(body)
	campaign := strconv.FormatInt(mine.ID, 10)
	upload := func(id, file string) (*http.Response, string) {
		return cl.postMultipart("/merchant/distribution/lists", map[string]string{"csrf": csrf, "campaign": id}, [][3]string{{"list", "list.csv", file}})
	}
	resp, body = upload(campaign, "phone,note\n123,first\n13800138000,ok\n12,third\n")
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="line-errors"`, "第 2 行 phone 列", "第 4 行 phone 列")
	if c, _ := e.app.Benefits.Campaign(ctx, tenant.Merchant(1), mine.ID); c.Issued != 0 {
		t.Fatalf("a refused list issued %d tickets", c.Issued)
	}
	resp, body = upload(strconv.FormatInt(theirs.ID, 10), fmt.Sprintf("account\n%d\n", a1))
	wantStatus(t, resp, body, http.StatusNotFound)

	resp, body = upload(campaign, fmt.Sprintf("account,note\n%d,VIP\n%d,\n", a1, a2))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/merchant/distribution/lists/") {
		t.Fatalf("upload: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	listPage := resp.Header.Get("Location")
	resp, body = cl.get(listPage)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-stat="issued">2<`, "VIP", `id="revoke-list"`)
	resp, body = cl.post(listPage+"/entries/2/revoke", url.Values{"csrf": {csrf}, "reason": {"发错了"}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="revocation"`, "撤回 1 张")
	if ts, err := e.app.Benefits.Tickets(ctx, a1); err != nil || len(ts) != 1 || ts[0].State != benefits.Revoked {
		t.Errorf("line 2's ticket after revoking: %+v, %v", ts, err)
	}
	if ts, err := e.app.Benefits.Tickets(ctx, a2); err != nil || len(ts) != 1 || ts[0].State == benefits.Revoked {
		t.Errorf("line 3's ticket was revoked too: %+v, %v", ts, err)
	}

	// Codes: made, exported, voided.
	resp, body = cl.post(fmt.Sprintf("/merchant/distribution/campaigns/%d/codes", mine.ID), url.Values{"csrf": {csrf}, "count": {"5"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	bs, err := e.app.Benefits.CodeBatches(ctx, tenant.Merchant(1), mine.ID)
	if err != nil || len(bs) != 1 {
		t.Fatalf("batches %v, %v", bs, err)
	}
	exportPath := fmt.Sprintf("/merchant/distribution/code-batches/%d/codes.csv", bs[0].ID)
	resp, body = cl.get(exportPath)
	wantStatus(t, resp, body, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 6 || rows[0][0] != "code" {
		t.Fatalf("codes CSV %v, %v", rows, err)
	}
	resp, body = cl.post(fmt.Sprintf("/merchant/distribution/code-batches/%d/revoke", bs[0].ID), url.Values{"csrf": {csrf}, "reason": {"活动调整"}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="codes-voided"`, "已作废 5 个")
	theirBatch, err := e.app.Benefits.GenerateCodes(ctx, tenant.Merchant(2), theirs.ID, 3, "account:902 (merchant)")
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = cl.get(fmt.Sprintf("/merchant/distribution/code-batches/%d/codes.csv", theirBatch.ID))
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("merchant 2's codes CSV: %d", resp.StatusCode)
	}

	// The poster holds the claim link.
	resp, body = cl.get(fmt.Sprintf("/merchant/distribution/campaigns/%d/poster", mine.ID))
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="poster-qr"`, `src="data:image/png;base64,`, fmt.Sprintf("/h5/campaigns/%d</code>", mine.ID))
	resp, body = cl.get(fmt.Sprintf("/merchant/distribution/campaigns/%d/poster", theirs.ID))
	wantStatus(t, resp, body, http.StatusNotFound)
	noMissingMessages(t, cl, "/merchant/distribution", listPage, fmt.Sprintf("/merchant/distribution/campaigns/%d/poster", mine.ID))

	// Merchant 2's list is not found, nor revocable.
	acct, _ := e.newPassenger(t, "mdbank")
	dist := distribution.NewService(e.app.DistributionStore, distribution.Config{Benefits: e.app.Benefits, Audit: e.app.Audit, Now: e.app.Now})
	theirList, _, err := dist.Upload(ctx, tenant.Merchant(2), theirs.ID, []byte(fmt.Sprintf("account\n%d\n", acct)), "account:902 (merchant)")
	if err != nil {
		t.Fatal(err)
	}
	theirPage := fmt.Sprintf("/merchant/distribution/lists/%d", theirList.ID)
	resp, body = cl.get(theirPage)
	wantStatus(t, resp, body, http.StatusNotFound)
	resp, body = cl.post(theirPage+"/revoke", url.Values{"csrf": {csrf}, "reason": {"x"}})
	wantStatus(t, resp, body, http.StatusNotFound)
	_, body = cl.get("/merchant/distribution")
	if strings.Contains(body, `"`+theirPage+`"`) {
		t.Error("merchant 2's list is listed")
	}
	staff := e.as(t, identity.MerchantStaff)
	for _, p := range []string{"/merchant/distribution", listPage} {
		resp, body := staff.get(p)
		wantStatus(t, resp, body, http.StatusForbidden)
		if strings.Contains(body, `href="/merchant/distribution"`) {
			t.Errorf("%s: staff without distribution have its menu item", p)
		}
	}
}
