package gtfs

import (
	"fmt"
	"strconv"

	"piao/internal/fault"
)

// Error is a problem found in a GTFS feed, located by file, line and column.
//
// Line is 1-based and counts the header as line 1 (0 when the problem is
// with the whole file or archive); Column is the header name of the field
// at fault ("" when the problem is with a whole row or file). An *Error
// unwraps to a *fault.Error of class fault.Invalid with reason
// "gtfs_invalid", so fault.As and fault.CodeOf work on it.
type Error struct {
	File   string // file inside the archive, e.g. "stop_times.txt"; "" for the archive itself
	Line   int    // 1-based line number, the header being line 1; 0 if not about one line
	Column string // header name of the offending column, "" if not about one field
	Msg    string // what is wrong, in English
	MsgZH  string // what is wrong, in Simplified Chinese
}

// Error formats the location and message: `stop_times.txt:1234: column arrival_time: invalid time "25:6x:00"`.
func (e *Error) Error() string {
	return e.where() + e.Msg
}

func (e *Error) where() string {
	if e.File == "" {
		return "gtfs: "
	}
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	s += ": "
	if e.Column != "" {
		s += "column " + e.Column + ": "
	}
	return s
}

func (e *Error) whereZH() string {
	if e.File == "" {
		return ""
	}
	s := e.File
	if e.Line > 0 {
		s += " 第 " + strconv.Itoa(e.Line) + " 行"
	}
	if e.Column != "" {
		s += " " + e.Column + " 列"
	}
	return s + "："
}

// Fault returns the error as a domain error of class fault.Invalid with reason "gtfs_invalid".
func (e *Error) Fault() *fault.Error {
	zh := e.MsgZH
	if zh == "" {
		zh = e.Msg
	}
	return &fault.Error{
		Code:   fault.Invalid,
		Reason: "gtfs_invalid",
		ZH:     "GTFS 数据有误：" + e.whereZH() + zh,
		EN:     "invalid GTFS feed: " + e.Error(),
	}
}

// Unwrap returns the error's fault form, so errors.As finds a *fault.Error.
func (e *Error) Unwrap() error { return e.Fault() }

// newError builds an *Error with messages formatted from the same arguments.
func newError(file string, line int, column, zh, en string, args ...any) *Error {
	return &Error{File: file, Line: line, Column: column, Msg: fmt.Sprintf(en, args...), MsgZH: fmt.Sprintf(zh, args...)}
}
