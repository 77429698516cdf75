package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/app/apptest"
	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/ridecode"
)

// trustRideCodes makes a trust ride codes of network nbmetro signed by a
// fresh issuer "test" and returns that issuer. Call it before serving.
func trustRideCodes(t *testing.T, a *app.App) *ridecode.Issuer {
	t.Helper()
	is := rideIssuer(t, "test")
	v, err := ridecode.NewVerifier(ridecode.VerifierConfig{Keys: map[string]*ecdsa.PublicKey{"test": is.PublicKey()}, Skew: ridecode.DefaultSkew, Network: "nbmetro"})
	if err != nil {
		t.Fatal(err)
	}
	a.UseRideCodes(v)
	return is
}

func rideIssuer(t *testing.T, id string) *ridecode.Issuer {
	t.Helper()
	k, err := ridecode.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	is, err := ridecode.NewIssuer(id, k)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// rideCode is a ride code of account on nbmetro signed by is now; edit
// changes its claims first.
func rideCode(t *testing.T, is *ridecode.Issuer, account int64, edit ...func(*ridecode.Claims)) string {
	t.Helper()
	c := ridecode.Claims{Network: "nbmetro", Account: account, IssuedAt: time.Now()}
	for _, e := range edit {
		e(&c)
	}
	text, err := is.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// rideJSON is a ¥4 ride from Gulou to Dongmenkou entered at entered, paid
// with code, as a gate sends it for redemption.
func rideJSON(code string, entered time.Time) string {
	return fmt.Sprintf(`{"code":%q,"from":"nbmetro:GL","to":"nbmetro:DMK","fare":400,"entered_at":%q}`, code, entered.Format(time.RFC3339))
}

// accountOf is the account ID behind a token.
func (s *testServer) accountOf(t *testing.T, token string) int64 {
	t.Helper()
	var me struct{ ID int64 }
	bnJSON(t, s.do(t, "GET", "/api/v1/me", token, nil), &me)
	if me.ID == 0 {
		t.Fatal("no account behind the token")
	}
	return me.ID
}

// TestRedeemRideByCode: the gate names the rider by a ride code only. An
// account or rider categories it sends are refused as unknown fields;
// forged, expired and foreign codes are refused with stable reasons; a
// code pays for one ride; categories come from verified grants only.
func TestRedeemRideByCode(t *testing.T) {
	s := newTestServer(t)
	admin, reviewer, gate := s.token(t, identity.OperatorAdmin), s.token(t, identity.OperatorReviewer), s.token(t, identity.Gate)
	alice, teacher := s.newPassenger(t, "gt-alice"), s.newPassenger(t, "gt-teacher")
	aliceID, teacherID := s.accountOf(t, alice), s.accountOf(t, teacher)
	from, until := bnWindow()
	voucher := bnRunningCampaign(t, s, admin, reviewer,
		`{"kind":"amount_off","name_zh":"两元乘车券","feed":"nbmetro","terms":{"amount_off":200},"validity":{"days":30}}`,
		`{"product_id":%d,"name_zh":"领券","starts":"`+from+`","ends":"`+until+`","channels":["claim"],"stock":10}`)
	half := bnRunningCampaign(t, s, admin, reviewer,
		`{"kind":"percentage","name_zh":"教师半价","feed":"nbmetro","terms":{"percent_off":50},"scope":{"riders":["teacher"]},"validity":{"days":30}}`,
		`{"product_id":%d,"name_zh":"教师","starts":"`+from+`","ends":"`+until+`","channels":["claim"],"stock":10}`)
	for _, c := range []struct {
		token string
		id    int64
	}{{alice, voucher}, {teacher, half}, {teacher, half}} {
		if res := s.do(t, "POST", fmt.Sprintf("/api/v1/campaigns/%d/claim", c.id), c.token, nil); res.status != 200 {
			t.Fatalf("claim: %d %s", res.status, res.body)
		}
	}
	entered := time.Now().Add(2 * time.Second) // after the claims: tickets are valid from their claim

	// The old request, naming the account and its categories, is refused;
	// so is a ride code with an account beside it.
	old := fmt.Sprintf(`{"account":%d,"feed":"nbmetro","from":"nbmetro:GL","to":"nbmetro:DMK","fare":400,"entered_at":%q,"rider_groups":["teacher"]}`, aliceID, entered.Format(time.RFC3339))
	if res := s.do(t, "POST", "/api/v1/rides/G-old/redemption", gate, strings.NewReader(old)); res.status != 422 {
		t.Errorf("a ride naming its account: %d %s", res.status, res.body)
	}
	named := strings.Replace(rideJSON(rideCode(t, s.rides, teacherID), entered), `{`, fmt.Sprintf(`{"account":%d,`, aliceID), 1)
	if res := s.do(t, "POST", "/api/v1/rides/G-named/redemption", gate, strings.NewReader(named)); res.status != 422 {
		t.Errorf("a ride code with an account beside it: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/rides/G-named/redemption", gate, nil); res.status != 404 {
		t.Errorf("a refused ride was redeemed: %d %s", res.status, res.body)
	}

	// Codes the server does not trust.
	forger := rideIssuer(t, "test") // the trusted issuer ID, another key
	for _, c := range []struct{ what, code, reason string }{
		{"forged", rideCode(t, forger, aliceID), ridecode.ReasonSignature},
		{"unknown issuer", rideCode(t, rideIssuer(t, "other"), aliceID), ridecode.ReasonUnknownIssuer},
		{"expired", rideCode(t, s.rides, aliceID, func(c *ridecode.Claims) { c.IssuedAt = c.IssuedAt.Add(-10 * time.Minute) }), ridecode.ReasonExpired},
		{"other network", rideCode(t, s.rides, aliceID, func(c *ridecode.Claims) { c.Network = "shmetro" }), ridecode.ReasonNetwork},
		{"garbage", "NOT A CODE", ridecode.ReasonMalformed},
	} {
		res := s.do(t, "POST", "/api/v1/rides/G-bad/redemption", gate, strings.NewReader(rideJSON(c.code, entered)))
		if res.status != 422 || decodeProblem(t, res).Reason != c.reason {
			t.Errorf("%s code: %d %s, want 422 %s", c.what, res.status, res.body, c.reason)
		}
	}

	// Alice's code: her voucher pays, once per code and once per ride ID.
	code := rideCode(t, s.rides, aliceID)
	res := s.do(t, "POST", "/api/v1/rides/G-1/redemption", gate, strings.NewReader(rideJSON(code, entered)))
	var red benefits.Redemption
	bnJSON(t, res, &red)
	if res.status != 200 || red.Account != aliceID || red.Net != 200 || red.Ride.Feed != "nbmetro" || res.header.Get("Redemption-Replayed") != "false" {
		t.Fatalf("alice's ride: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/rides/G-1/redemption", gate, strings.NewReader(rideJSON(code, entered))); res.status != 200 || res.header.Get("Redemption-Replayed") != "true" {
		t.Errorf("the same ride again: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/rides/G-2/redemption", gate, strings.NewReader(rideJSON(code, entered))); res.status != 409 || decodeProblem(t, res).Reason != ridecode.ReasonReplayed {
		t.Errorf("one code, another ride: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/rides/G-1/redemption", gate, strings.NewReader(rideJSON(rideCode(t, s.rides, teacherID), entered))); res.status != 409 || decodeProblem(t, res).Reason != "ride_other_account" {
		t.Errorf("alice's ride with the teacher's code: %d %s", res.status, res.body)
	}

	// The teacher's half-fare tickets need the category from a verified
	// enrolment; the subsidy service grants it through the metro store.
	res = s.do(t, "POST", "/api/v1/rides/G-3/redemption", gate, strings.NewReader(rideJSON(rideCode(t, s.rides, teacherID), entered)))
	bnJSON(t, res, &red)
	if res.status != 200 || red.Net != 400 || len(red.Applied) != 0 || len(red.Ride.RiderGroups) != 0 {
		t.Errorf("teacher not enrolled: %d %s; want the full ¥4", res.status, res.body)
	}
	grant := metro.AccountGroup{Account: teacherID, GroupGrant: metro.GroupGrant{Group: "teacher", Window: benefits.Window{From: time.Now().Add(-time.Hour), Until: time.Now().Add(24 * time.Hour)}}}
	if err := s.app.MetroStore.GrantGroups(context.Background(), []metro.AccountGroup{grant}); err != nil {
		t.Fatal(err)
	}
	res = s.do(t, "POST", "/api/v1/rides/G-4/redemption", gate, strings.NewReader(rideJSON(rideCode(t, s.rides, teacherID), entered)))
	bnJSON(t, res, &red)
	if res.status != 200 || red.Net != 200 || len(red.Applied) != 1 || strings.Join(red.Ride.RiderGroups, ",") != "teacher" {
		t.Errorf("enrolled teacher: %d %s; want half fare", res.status, res.body)
	}

	if res := s.do(t, "POST", "/api/v1/rides/G-5/redemption", alice, strings.NewReader(rideJSON(rideCode(t, s.rides, aliceID), entered))); res.status != 403 {
		t.Errorf("a passenger redeems a ride: %d", res.status)
	}
}

// TestRedeemRideWithoutKeys: a server with no issuer keys refuses ride
// redemption with a clear 503.
func TestRedeemRideWithoutKeys(t *testing.T) {
	a := apptest.NewDemo(t)
	ts, _ := apptest.Serve(t, a, nil)
	s := &testServer{Server: ts, app: a}
	res := s.do(t, "POST", "/api/v1/rides/N-1/redemption", s.token(t, identity.Gate), strings.NewReader(rideJSON(rideCode(t, rideIssuer(t, "test"), 1), time.Now())))
	if res.status != 503 || decodeProblem(t, res).Reason != "ride_codes_unconfigured" {
		t.Errorf("no keys: %d %s", res.status, res.body)
	}
}
