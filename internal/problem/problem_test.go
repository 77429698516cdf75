package problem_test

import (
	"net/http"
	"testing"

	"piao/internal/fault"
	"piao/internal/problem"
)

func TestStatusOf(t *testing.T) {
	for c, want := range map[fault.Code]int{
		fault.Invalid: 422, fault.NotFound: 404, fault.Conflict: 409, fault.Forbidden: 403, fault.Unauthorized: 401,
		fault.LimitReached: 429, fault.Unavailable: 503, fault.Internal: 500, "something_new": 500,
	} {
		if got := problem.StatusOf(c); got != want {
			t.Errorf("StatusOf(%s) = %d, want %d", c, got, want)
		}
	}
}

func TestNewSpeaksTheRequestsLanguage(t *testing.T) {
	zh := problem.New(http.StatusConflict, fault.Conflict, "sold_out", "已售完", "sold out", "zh")
	en := problem.New(http.StatusConflict, fault.Conflict, "sold_out", "已售完", "sold out", "en")
	if zh.Detail != "已售完" || en.Detail != "sold out" {
		t.Errorf("details: %q, %q", zh.Detail, en.Detail)
	}
	if en.Type != "https://piao.dev/problems/conflict" || en.Title != "Conflict" || en.MessageZH != "已售完" || en.MessageEN != "sold out" || en.GetStatus() != 409 {
		t.Errorf("problem: %+v", en)
	}
	if en.ContentType("application/json") != "application/problem+json" || en.ContentType("application/cbor") != "application/cbor" {
		t.Error("content type")
	}
}
