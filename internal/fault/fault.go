// Package fault defines the coded errors every piao domain returns.
//
// A domain says what went wrong with a Code and a message in zh-CN and
// English; adapters (the HTTP API, the CLI) decide how to show it. This
// package must never import an adapter or do I/O.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable, machine-readable error class.
type Code string

// The small set of error classes shared by all domains.
const (
	Invalid      Code = "invalid"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	Forbidden    Code = "forbidden"
	Unauthorized Code = "unauthorized"
	LimitReached Code = "limit_reached"
	Unavailable  Code = "unavailable"
	Internal     Code = "internal"
)

// Error is a domain error with a class, a specific reason and bilingual messages.
type Error struct {
	Code   Code   // error class, mapped to an HTTP status by adapters
	Reason string // specific stable reason, e.g. "station_not_found"
	ZH     string // message in Simplified Chinese
	EN     string // message in English
	Err    error  // optional wrapped cause, never shown to users
	// RetryAt, when set, is when the refused request may succeed again
	// (a daily limit lifting, say).
	RetryAt time.Time
}

// WithRetryAt returns e saying when the request may be tried again.
func (e *Error) WithRetryAt(t time.Time) *Error {
	e.RetryAt = t
	return e
}

// Error returns the English message with the wrapped cause, for logs.
func (e *Error) Error() string {
	msg := e.EN
	if e.Reason != "" {
		msg = e.Reason + ": " + msg
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the wrapped cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of class code with a reason and messages.
func New(code Code, reason, zh, en string) *Error {
	return &Error{Code: code, Reason: reason, ZH: zh, EN: en}
}

// Newf is New with fmt-style English and Chinese messages sharing the same arguments.
func Newf(code Code, reason, zhFormat, enFormat string, args ...any) *Error {
	return New(code, reason, fmt.Sprintf(zhFormat, args...), fmt.Sprintf(enFormat, args...))
}

// Wrap returns an internal error wrapping err; its cause is logged, never shown.
func Wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		return err
	}
	return &Error{Code: Internal, Reason: "internal", ZH: "服务器内部错误", EN: "internal error", Err: fmt.Errorf("%s: %w", what, err)}
}

// CodeOf returns the class of err: the Code of a wrapped *Error, or Internal.
func CodeOf(err error) Code {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return Internal
}

// As returns the *Error in err's chain, or an internal error wrapping err.
func As(err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return &Error{Code: Internal, Reason: "internal", ZH: "服务器内部错误", EN: "internal error", Err: err}
}

// Is reports whether err is a domain error of class code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }
