package benefits_test

import (
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
)

func TestCampaignValidate(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, benefits.Shanghai)
	ok := benefits.Campaign{NameZH: "元旦", Starts: start, Ends: start.AddDate(0, 1, 0), Stock: 10, Channels: []benefits.Channel{benefits.ClaimChannel}}
	with := func(f func(*benefits.Campaign)) benefits.Campaign { c := ok; f(&c); return c }
	cases := []struct {
		name   string
		c      benefits.Campaign
		reason string
	}{
		{"a claim campaign", ok, ""},
		{"no name", with(func(c *benefits.Campaign) { c.NameZH = " " }), "campaign_name_required"},
		{"ends before it starts", with(func(c *benefits.Campaign) { c.Ends = c.Starts }), "bad_campaign_window"},
		{"no stock", with(func(c *benefits.Campaign) { c.Stock = 0 }), "bad_stock"},
		{"no channel", with(func(c *benefits.Campaign) { c.Channels = nil }), "channels_required"},
		{"unknown channel", with(func(c *benefits.Campaign) { c.Channels = []benefits.Channel{"fax"} }), "bad_channel"},
		{"automatic, no stock", with(func(c *benefits.Campaign) { c.Channels = []benefits.Channel{benefits.AutoChannel}; c.Stock = 0 }), ""},
		{"automatic with stock", with(func(c *benefits.Campaign) { c.Channels = []benefits.Channel{benefits.AutoChannel} }), "auto_no_stock"},
		{"automatic and claimable", with(func(c *benefits.Campaign) {
			c.Channels = []benefits.Channel{benefits.AutoChannel, benefits.ClaimChannel}
			c.Stock = 0
		}), "auto_channel_alone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if fe := fault.As(err); fe == nil || fe.Reason != tc.reason {
				t.Fatalf("got %v, want reason %s", err, tc.reason)
			}
		})
	}
}

func TestAutoBenefitAppliesOnlyDuringTheCampaign(t *testing.T) {
	start := time.Date(2026, 12, 25, 0, 0, 0, 0, benefits.Shanghai)
	c := benefits.Campaign{ID: 7, Starts: start, Ends: start.AddDate(0, 0, 1), Channels: []benefits.Channel{benefits.AutoChannel}}
	p := benefits.Product{Kind: benefits.FixedPrice, Terms: benefits.Terms{FixedPrice: 0}, Scope: benefits.Scope{Lines: []string{"L1"}}}
	b := benefits.AutoBenefit(c, p)
	ride := benefits.Ride{ID: "r", From: "A", To: "B", FromLine: "L1", ToLine: "L1", Fare: 400, EnteredAt: start.Add(9 * time.Hour)}
	if sel := benefits.Select(ride, benefits.Shanghai, []benefits.Benefit{b}); sel.Net != 0 || len(sel.Applied) != 1 || sel.Applied[0].CampaignID != 7 || sel.Applied[0].TicketID != 0 {
		t.Fatalf("free-ride day: %+v", sel)
	}
	ride.EnteredAt = start.AddDate(0, 0, 1)
	if sel := benefits.Select(ride, benefits.Shanghai, []benefits.Benefit{b}); sel.Net != 400 {
		t.Fatalf("the day after: %+v", sel)
	}
	ride.EnteredAt, ride.FromLine, ride.ToLine = start.Add(time.Hour), "L2", "L2"
	if sel := benefits.Select(ride, benefits.Shanghai, []benefits.Benefit{b}); sel.Net != 400 {
		t.Fatalf("another line: %+v", sel)
	}
}

// TestCampaignOver: a campaign is over once ended or terminated, and one
// never approved is over once past its end (it can no longer run, so what
// its merchant prepaid comes back).
func TestCampaignOver(t *testing.T) {
	starts := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	ends := starts.AddDate(0, 0, 10)
	during, after := starts.AddDate(0, 0, 3), ends.Add(time.Second)
	for _, c := range []struct {
		status      benefits.Status
		at          time.Time
		over        bool
		description string
	}{
		{benefits.Approved, during, false, "running"},
		{benefits.Approved, after, true, "ended"},
		{benefits.Paused, after, true, "paused past its end"},
		{benefits.Terminated, during, true, "terminated"},
		{benefits.Draft, during, false, "a draft before its end"},
		{benefits.Draft, after, true, "a draft past its end"},
		{benefits.Submitted, after, true, "never reviewed, past its end"},
		{benefits.Rejected, during, false, "rejected, may be resubmitted"},
		{benefits.Rejected, ends, true, "rejected at its end"},
	} {
		camp := benefits.Campaign{Status: c.status, Starts: starts, Ends: ends}
		if got := camp.Over(c.at); got != c.over {
			t.Errorf("%s: Over = %v, want %v", c.description, got, c.over)
		}
	}
}
