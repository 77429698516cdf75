package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/identity"
	"piao/internal/tenant"
)

// TestDistributionUploadRetriedWithIdempotencyKey uploads a list, then
// retries the same upload with the same Idempotency-Key: the retry
// answers the first list again (Idempotent-Replayed) and issues nothing;
// the same key with another list is refused.
func TestDistributionUploadRetriedWithIdempotencyKey(t *testing.T) {
	s := newTestServer(t)
	m := s.token(t, identity.MerchantAdmin)
	phones := []string{"13622220001", "13622220002"}
	for i, p := range phones {
		dsAccount(t, s, identity.NewAccount{Username: fmt.Sprintf("ds-retry-%d", i), Phone: p, Role: identity.Passenger})
	}
	id := dsCampaign(t, s, 5, 1, benefits.DirectChannel)
	upload := fmt.Sprintf("/api/v1/merchant/campaigns/%d/lists", id)
	roster := "phone\n" + phones[0] + "\n" + phones[1] + "\n"
	ct, key := "text/csv; charset=utf-8", "upload-list-1"

	first := s.do(t, "POST", upload, m, csvBody(roster), "Content-Type", ct, "Idempotency-Key", key)
	var up struct{ List distribution.List }
	bnJSON(t, first, &up)
	if first.status != http.StatusOK || up.List.Issued != 2 || up.List.Pending {
		t.Fatalf("upload: %d %s", first.status, first.body)
	}
	again := s.do(t, "POST", upload, m, csvBody(roster), "Content-Type", ct, "Idempotency-Key", key)
	if again.status != first.status || string(again.body) != string(first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %q %s; want the first answer replayed", again.status, again.header.Get("Idempotent-Replayed"), again.body)
	}
	other := s.do(t, "POST", upload, m, csvBody("phone\n"+phones[0]+"\n"), "Content-Type", ct, "Idempotency-Key", key)
	if p := decodeProblem(t, other); other.status != http.StatusUnprocessableEntity || p.Reason != "idempotency_key_reused" {
		t.Fatalf("the key with another list: %d %s", other.status, other.body)
	}
	var lists struct{ Lists []distribution.List }
	bnJSON(t, s.do(t, "GET", fmt.Sprintf("/api/v1/merchant/lists?campaign=%d", id), m, nil), &lists)
	c, err := s.app.Benefits.Campaign(context.Background(), tenant.All(), id)
	if err != nil || len(lists.Lists) != 1 || lists.Lists[0].ID != up.List.ID || c.Issued != 2 {
		t.Fatalf("after the retry: %d lists, %d issued (%v); want the one list and 2 tickets", len(lists.Lists), c.Issued, err)
	}
}
