package console_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/tenant"
)

// smallPNG is a valid 4×4 PNG image.
func smallPNG(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestMerchantNewCampaign: the merchant makes a product from the
// operator's template and a draft campaign of it, with a cover image, in
// one form; terms beyond the template's bounds and a cover of the wrong
// type are refused with the form shown again and nothing written.
func TestMerchantNewCampaign(t *testing.T) {
	e := newEnv(t)
	ctx, bn := context.Background(), e.app.Benefits
	tpl, err := bn.CreateTemplate(ctx, benefits.Template{Kind: benefits.AmountOff, NameZH: "满减券模板", NameEN: "Voucher template", MaxAmountOff: 500,
		DescriptionZH: "商场满减", DescriptionEN: "Mall vouchers"}, "account:1 (admin)")
	if err != nil {
		t.Fatal(err)
	}
	cl := e.as(t, identity.MerchantAdmin)
	resp, body := cl.get("/merchant/campaigns")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `href="/merchant/campaigns/new"`)
	resp, body = cl.get("/merchant/campaigns/new")
	wantStatus(t, resp, body, http.StatusOK)
	choose := "/merchant/campaigns/new?template=" + strconv.FormatInt(tpl.ID, 10)
	wantContains(t, body, "满减券模板", "抵用不超过 ¥5.00", `href="`+choose+`"`)
	if strings.Contains(body, `id="campaign-form"`) {
		t.Error("the form shows before a template is chosen")
	}
	resp, body = cl.get(choose)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="campaign-form"`, `enctype="multipart/form-data"`, `name="amount_off"`, `name="cover_image"`)
	if strings.Contains(body, `name="rides"`) {
		t.Error("a voucher template's form asks for rides")
	}
	csrf := csrfIn(body)
	fields := func(amount string) map[string]string {
		return map[string]string{"csrf": csrf, "template": strconv.FormatInt(tpl.ID, 10), "name_zh": "春季满减", "name_en": "Spring voucher",
			"amount_off": amount, "days": "10", "stations": "nbmetro:GL", "weekday": "6", "hour_from": "10:00", "hour_to": "22:00",
			"starts": "2026-03-01T10:00", "ends": "2026-04-01T10:00", "claim": "1", "per_user": "1"}
	}
	count := func() int {
		cs, err := bn.Campaigns(ctx, tenant.Merchant(1), benefits.CampaignFilter{})
		if err != nil {
			t.Fatal(err)
		}
		ps, err := bn.Products(ctx, tenant.Merchant(1), "")
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)*100 + len(ps)
	}
	before := count()
	resp, body = cl.postMultipart("/merchant/campaigns", fields("6"), [][3]string{{"cover_image", "brand.png", string(smallPNG(t))}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "抵用金额不得超过 500 分", `value="春季满减"`)
	resp, body = cl.postMultipart("/merchant/campaigns", fields("5"), [][3]string{{"cover_image", "brand.txt", string([]byte("not an image at all"))}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "不支持的文件类型")
	// A cover just over its limit is refused by the cover rule, on the page.
	big := append(smallPNG(t), make([]byte, 1<<20)...)
	resp, body = cl.postMultipart("/merchant/campaigns", fields("5"), [][3]string{{"cover_image", "big.png", string(big)}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "文件过大")
	if got := count(); got != before {
		t.Fatalf("refused forms wrote something: %d, was %d", got, before)
	}

	resp, body = cl.postMultipart("/merchant/campaigns", fields("5"), [][3]string{{"cover_image", "brand.png", string(smallPNG(t))}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/merchant/campaigns/") {
		t.Fatalf("create: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(resp.Header.Get("Location"), "/merchant/campaigns/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	c, err := bn.Campaign(ctx, tenant.Merchant(1), id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := bn.Product(ctx, tenant.Merchant(1), c.ProductID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Owner != "merchant:1" || !c.Prepaid || c.Status != benefits.Draft || p.TemplateID != tpl.ID || p.Terms.AmountOff != 500 ||
		len(p.Scope.Weekdays) != 1 || p.Scope.Weekdays[0] != 6 || p.Scope.FromMinute != 600 || p.Scope.ToMinute != 1320 {
		t.Errorf("stored campaign %+v\nproduct %+v", c, p)
	}
	if img, err := bn.Cover(ctx, p.ID); err != nil || img.ContentType != "image/png" || img.Name != "brand.png" {
		t.Errorf("cover %+v, %v", img, err)
	}
	resp, body = cl.get(resp.Header.Get("Location"))
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "春季满减", `data-status="draft"`, `src="/api/v1/benefit-products/`+strconv.FormatInt(p.ID, 10)+`/cover"`)
	noMissingMessages(t, cl, "/merchant/campaigns/new", choose)

	// The demo staff, granted campaigns, may open the form too.
	staff := e.client(t)
	staff.login(merchantLogin(t, identity.MerchantStaff))
	if resp, _ := staff.get(choose); resp.StatusCode != http.StatusOK {
		t.Errorf("demo staff (campaigns granted): %d", resp.StatusCode)
	}
}
