// Package problem is piao's error answer over HTTP: the RFC 9457
// problem+json body with a stable code and reason and messages in Chinese
// and English, and the one mapping of fault classes to HTTP statuses. The
// API, the console and the payment sandbox's pages all use it, so none of
// them imports another to answer an error.
package problem

import (
	"net/http"
	"time"

	"piao/internal/fault"
)

// Problem is an RFC 9457 problem+json body with piao's stable codes and
// messages in both languages.
type Problem struct {
	Type      string          `json:"type" doc:"URI naming the problem class"`
	Title     string          `json:"title" doc:"HTTP status text"`
	Status    int             `json:"status" doc:"HTTP status code"`
	Detail    string          `json:"detail" doc:"Message in the request's language (zh-CN unless Accept-Language prefers English)"`
	Code      fault.Code      `json:"code" doc:"Stable error class: invalid, not_found, conflict, forbidden, unauthorized, limit_reached, unavailable, internal"`
	Reason    string          `json:"reason" doc:"Stable specific reason, e.g. station_not_found"`
	MessageZH string          `json:"message_zh" doc:"Message in Simplified Chinese"`
	MessageEN string          `json:"message_en" doc:"Message in English"`
	RequestID string          `json:"request_id,omitempty" doc:"The request's ID, also in the X-Request-Id header"`
	Errors    []ProblemDetail `json:"errors,omitempty" doc:"Field-level details of invalid input"`
	RetryAt   *time.Time      `json:"retry_at,omitempty" doc:"When the request may succeed again (a daily limit lifting); also in Retry-After"`
}

// ProblemDetail names one invalid input. (The name, not Detail, is the
// schema's name in the API's OpenAPI document.)
type ProblemDetail struct {
	Location string `json:"location,omitempty" doc:"Where the error is, e.g. body.username or query.date"`
	Message  string `json:"message" doc:"What is wrong"`
	Value    any    `json:"value,omitempty" doc:"The offending value"`
}

// New returns the problem of an error of class code answered with status,
// its detail in lang: "en" for English, anything else Chinese.
func New(status int, code fault.Code, reason, zh, en, lang string) *Problem {
	p := &Problem{
		Type:   "https://piao.dev/problems/" + string(code),
		Title:  http.StatusText(status),
		Status: status, Code: code, Reason: reason, MessageZH: zh, MessageEN: en,
	}
	p.Detail = zh
	if lang == "en" {
		p.Detail = en
	}
	return p
}

// Error implements error.
func (p *Problem) Error() string { return p.Reason + ": " + p.MessageEN }

// GetStatus returns the HTTP status (huma's StatusError).
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes huma send application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

// StatusOf maps an error class to its HTTP status: the one error mapper,
// shared by the API, the console and the payment sandbox.
func StatusOf(c fault.Code) int {
	switch c {
	case fault.Invalid:
		return http.StatusUnprocessableEntity
	case fault.NotFound:
		return http.StatusNotFound
	case fault.Conflict:
		return http.StatusConflict
	case fault.Forbidden:
		return http.StatusForbidden
	case fault.Unauthorized:
		return http.StatusUnauthorized
	case fault.LimitReached:
		return http.StatusTooManyRequests
	case fault.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
