package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

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

// ProblemDetail names one invalid input.
type ProblemDetail struct {
	Location string `json:"location,omitempty" doc:"Where the error is, e.g. body.username or query.date"`
	Message  string `json:"message" doc:"What is wrong"`
	Value    any    `json:"value,omitempty" doc:"The offending value"`
}

// Error implements error.
func (p *Problem) Error() string { return p.Reason + ": " + p.MessageEN }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes huma send application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

// StatusOf maps an error class to its HTTP status: the one error mapper,
// shared by the API and the console.
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

// classOf maps an HTTP status raised by the framework (bad JSON, a body too
// large, validation) to an error class and reason with bilingual messages.
func classOf(status int) (fault.Code, string, string, string) {
	switch status {
	case http.StatusBadRequest:
		return fault.Invalid, "malformed_request", "请求格式错误", "the request is malformed"
	case http.StatusUnprocessableEntity:
		return fault.Invalid, "validation_failed", "请求参数不合法", "the request has invalid fields"
	case http.StatusRequestEntityTooLarge:
		return fault.LimitReached, "body_too_large", "请求体过大", "the request body is too large"
	case http.StatusRequestTimeout:
		return fault.Invalid, "body_timeout", "读取请求体超时", "reading the request body timed out"
	case http.StatusNotFound:
		return fault.NotFound, "not_found", "资源不存在", "no such resource"
	case http.StatusMethodNotAllowed:
		return fault.Invalid, "method_not_allowed", "不支持该请求方法", "method not allowed"
	case http.StatusNotAcceptable, http.StatusUnsupportedMediaType:
		return fault.Invalid, "unsupported_media_type", "不支持的内容类型", "unsupported content type"
	case http.StatusUnauthorized:
		return fault.Unauthorized, "unauthorized", "请先登录", "log in first"
	case http.StatusForbidden:
		return fault.Forbidden, "forbidden", "没有权限", "not allowed"
	case http.StatusServiceUnavailable:
		return fault.Unavailable, "unavailable", "服务暂不可用", "service unavailable"
	}
	return fault.Internal, "internal", "服务器内部错误", "internal error"
}

// problemFor builds the problem for a domain error, logging internal causes.
func problemFor(ctx context.Context, lang string, err error) *Problem {
	fe := fault.As(err)
	status := StatusOf(fe.Code)
	if status == http.StatusInternalServerError {
		slog.ErrorContext(ctx, "internal error", "request_id", requestIDFrom(ctx), "err", err.Error())
		fe = fault.New(fault.Internal, "internal", "服务器内部错误", "internal error")
	}
	p := newProblem(ctx, lang, status, fe.Code, fe.Reason, fe.ZH, fe.EN)
	if !fe.RetryAt.IsZero() {
		t := fe.RetryAt
		p.RetryAt = &t
	}
	return p
}

func newProblem(ctx context.Context, lang string, status int, code fault.Code, reason, zh, en string) *Problem {
	p := &Problem{
		Type:   "https://piao.dev/problems/" + string(code),
		Title:  http.StatusText(status),
		Status: status, Code: code, Reason: reason, MessageZH: zh, MessageEN: en,
		RequestID: requestIDFrom(ctx),
	}
	p.Detail = zh
	if lang == "en" {
		p.Detail = en
	}
	return p
}

// preferredLanguage returns "en" when Accept-Language prefers English over
// Chinese, else "zh" (the default).
func preferredLanguage(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "zh"
}

// installErrorModel makes every error huma produces a Problem: framework
// errors by status, handler errors through the fault mapping.
func installErrorModel() {
	huma.NewErrorWithContext = func(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		ctx, lang := context.Background(), "zh"
		if hctx != nil {
			ctx = hctx.Context()
			lang = preferredLanguage(hctx.Header("Accept-Language"))
		}
		for _, e := range errs {
			var ready *Problem
			if errors.As(e, &ready) {
				return ready
			}
			var fe *fault.Error
			if errors.As(e, &fe) {
				return problemFor(ctx, lang, e)
			}
		}
		if status >= 500 {
			for _, e := range errs {
				if e != nil {
					return problemFor(ctx, lang, e)
				}
			}
		}
		code, reason, zh, en := classOf(status)
		p := newProblem(ctx, lang, status, code, reason, zh, en)
		if msg != "" && status < 500 {
			p.MessageEN = en + ": " + msg
			if lang == "en" {
				p.Detail = p.MessageEN
			}
		}
		for _, e := range errs {
			if e == nil {
				continue
			}
			var d ProblemDetail
			var ed *huma.ErrorDetail
			if errors.As(e, &ed) {
				d = ProblemDetail{Location: ed.Location, Message: ed.Message, Value: ed.Value}
			} else {
				d = ProblemDetail{Message: e.Error()}
			}
			p.Errors = append(p.Errors, d)
		}
		return p
	}
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return huma.NewErrorWithContext(nil, status, msg, errs...)
	}
}

// writeProblem writes a problem outside huma (plain handlers, middleware).
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = jsonEncode(w, p)
}
