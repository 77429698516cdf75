package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"piao/internal/fault"
	"piao/internal/problem"
)

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
func problemFor(ctx context.Context, lang string, err error) *problem.Problem {
	fe := fault.As(err)
	status := problem.StatusOf(fe.Code)
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

func newProblem(ctx context.Context, lang string, status int, code fault.Code, reason, zh, en string) *problem.Problem {
	p := problem.New(status, code, reason, zh, en, lang)
	p.RequestID = requestIDFrom(ctx)
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
			var ready *problem.Problem
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
			var d problem.ProblemDetail
			var ed *huma.ErrorDetail
			if errors.As(e, &ed) {
				d = problem.ProblemDetail{Location: ed.Location, Message: ed.Message, Value: ed.Value}
			} else {
				d = problem.ProblemDetail{Message: e.Error()}
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
func writeProblem(w http.ResponseWriter, r *http.Request, p *problem.Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = jsonEncode(w, p)
}
