package demo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"time"

	"piao/internal/audit"
	"piao/internal/fault"
	"piao/internal/merchant"
	"piao/internal/tenant"
)

// The demo merchants' IDs: onboarding an empty database numbers them in
// the order they apply.
const (
	MallMerchant int64 = 1
	BankMerchant int64 = 2
)

// applicant is one demo merchant's application.
type applicant struct {
	legalName, contact, phone string
	// org is the 8 body characters of the organisation code inside the
	// credit code; the check characters are computed.
	org      string
	admin    string // login of its admin; a Logins entry for approved ones
	approve  bool
	staffFor string // login of its staff member (a Logins entry), if any
}

// applicants are the demo merchants in the order they apply: a mall and a
// bank, approved with one staff member each, and a café chain waiting for
// review. The names are invented.
var applicants = []applicant{
	{"宁波天汇广场商业管理有限公司", "陈经理", "13800574001", "MA2H7T0K", "merchant", true, "staff"},
	{"宁波甬江银行股份有限公司", "王行长助理", "13800574002", "MA2B1C8Q", "bank", true, "teller"},
	{"宁波三江口咖啡连锁有限公司", "李店长", "13800574003", "MA2K5W3R", "cafe", false, ""},
}

// CreditCode is a demo merchant's unified social credit code: a company
// (91) registered in Ningbo (330200) with organisation code body org, and
// its check characters.
func CreditCode(org string) string {
	return merchant.CompleteCreditCode("91330200" + merchant.OrganisationCode(org))
}

// Merchants is what SeedMerchants made.
type Merchants struct {
	Approved int `json:"approved"`
	Pending  int `json:"pending"`
	Staff    int `json:"staff"`
}

func login(username string) (Login, bool) {
	for _, l := range Logins {
		if l.Username == username {
			return l, true
		}
	}
	return Login{}, false
}

// SeedMerchants onboards the demo merchants as a merchant and the
// operator would, at the time at: each applies with its papers (a
// generated licence image and a PDF), the demo reviewer approves the mall
// (merchant 1, whose admin is the demo login "merchant") and the bank
// (merchant 2, admin "bank"), each admin invites its staff member, who
// accepts with the demo password; a café chain's application waits for
// review. It does nothing when merchants exist, or when the mall's admin
// login does (a demo database seeded before the merchants were).
func SeedMerchants(ctx context.Context, ms *merchant.Service, at time.Time) (Merchants, error) {
	var out Merchants
	existing, err := ms.Store.Merchants(ctx, tenant.All(), merchant.Filter{Limit: 1})
	if err != nil || len(existing) > 0 {
		return out, err
	}
	// A demo database older than the merchants has the merchant logins
	// without merchants: onboarding could not make them; leave it be.
	if _, err := ms.Identity.Store.AccountByLogin(ctx, applicants[0].admin); !fault.Is(err, fault.NotFound) {
		return out, err
	}
	svc := *ms // the same stores, on the demo's clock
	clock := at
	svc.Now = func() time.Time { return clock }
	reviewer, err := ms.Identity.Store.AccountByLogin(ctx, "reviewer")
	if err != nil {
		return out, fmt.Errorf("demo merchants: %w", err)
	}
	asReviewer := audit.WithActor(ctx, audit.Actor{AccountID: reviewer.ID, Username: reviewer.Username, Role: string(reviewer.Role)})
	licence, err := licenceImage()
	if err != nil {
		return out, err
	}
	for _, ap := range applicants {
		password := "piao-" + ap.admin + "-2026"
		l, known := login(ap.admin)
		if known {
			password = l.Password
		}
		r, err := svc.Apply(ctx, merchant.Application{LegalName: ap.legalName, CreditCode: CreditCode(ap.org),
			Contact: merchant.Contact{Name: ap.contact, Phone: ap.phone}, AdminUsername: ap.admin, AdminPassword: password,
			Papers: []merchant.Upload{
				{Kind: merchant.Licence, Name: "营业执照.png", Data: licence},
				{Kind: merchant.OtherPaper, Name: "法定代表人授权书.pdf", Data: paperPDF(ap.legalName)},
			}})
		if err != nil {
			return out, fmt.Errorf("demo merchant %s applies: %w", ap.legalName, err)
		}
		if known && r.Merchant.ID != l.Merchant {
			return out, fmt.Errorf("demo merchant %s was numbered %d, its logins work for %d: seed merchants into an empty database", ap.legalName, r.Merchant.ID, l.Merchant)
		}
		clock = clock.Add(5 * time.Minute)
		if !ap.approve {
			out.Pending++
			continue
		}
		m, err := svc.Review(asReviewer, tenant.All(), r.Merchant.ID, merchant.Approve, "")
		if err != nil {
			return out, fmt.Errorf("demo merchant %s approved: %w", ap.legalName, err)
		}
		out.Approved++
		clock = clock.Add(5 * time.Minute)
		staff, ok := login(ap.staffFor)
		if !ok {
			continue
		}
		admin, err := ms.Identity.Store.AccountByID(ctx, m.AdminAccount)
		if err != nil {
			return out, err
		}
		asAdmin := audit.WithActor(ctx, audit.Actor{AccountID: admin.ID, Username: admin.Username, Role: string(admin.Role)})
		inv, err := svc.Invite(asAdmin, tenant.Merchant(m.ID), merchant.Invite{Username: staff.Username, DisplayName: staff.Name, Grants: staff.Grants})
		if err != nil {
			return out, fmt.Errorf("demo merchant %s invites %s: %w", ap.legalName, staff.Username, err)
		}
		if _, err := svc.AcceptInvitation(ctx, inv.Token, staff.Password); err != nil {
			return out, fmt.Errorf("demo staff %s accepts: %w", staff.Username, err)
		}
		out.Staff++
		clock = clock.Add(2 * time.Minute)
	}
	return out, nil
}

// licenceImage is a small PNG standing in for a scanned business licence.
func licenceImage() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 48, 32))
	for y := range 32 {
		for x := range 48 {
			c := color.RGBA{250, 246, 236, 255}
			if x < 2 || y < 2 || x > 45 || y > 29 {
				c = color.RGBA{180, 30, 30, 255} // the licence's red border
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// paperPDF is a one-page PDF naming who signs the authorisation; its text
// is ASCII, as the standard fonts need.
func paperPDF(who string) []byte {
	text := fmt.Sprintf("Demo authorisation letter of merchant applicant (%d bytes of name)", len(who))
	stream := "BT /F1 12 Tf 40 760 Td (" + text + ") Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}
