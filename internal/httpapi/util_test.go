package httpapi_test

import (
	"net/url"
	"time"
)

func urlQuery(s string) string { return url.QueryEscape(s) }

func mustShanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}
