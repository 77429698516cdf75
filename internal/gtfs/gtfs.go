// Package gtfs reads GTFS zip feeds into a network.Bundle.
//
// Parsing is strict: the first problem found (a missing file or column,
// malformed CSV, a bad number, time, date or colour, a duplicate ID, a
// reference to an unknown record, a trip whose times go backwards) stops
// the parse with an *Error naming the file, line and column, which is
// also a fault.Invalid domain error. Every record ID in the bundle is
// "<feed>:<source id>".
//
// This package must never access a database itself: it produces bundles,
// and Import only hands a parsed bundle to a network.Store.
package gtfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"time"

	"piao/internal/fault"
	"piao/internal/network"
)

// Options configures a parse.
type Options struct {
	// FeedID names the feed ("lirr") and prefixes every record ID; required.
	// It may hold ASCII letters, digits, '-' and '_'.
	FeedID string
	// Mode is the feed's network mode; empty means network.ModeRail.
	Mode network.Mode
	// Progress, if set, is called while the feed's files are read with the
	// number of uncompressed CSV bytes read so far and the total to read
	// (from the archive's directory); after a successful parse the last
	// call has done == total.
	Progress func(done, total int64)
	// WriteProgress, if set, is called by Import while the store writes the
	// bundle, with rows written so far and the bundle's total row count.
	WriteProgress func(done, total int64)
	// ShapeDistUnitKm says the feed's shape_dist_traveled is in kilometres:
	// stop distances become metres from the trip's first stop. Without it,
	// stop distances are left 0 (unknown).
	ShapeDistUnitKm bool
}

func (o *Options) check() error {
	if o.FeedID == "" {
		return fault.New(fault.Invalid, "gtfs_feed_id", "必须指定数据源 ID", "a feed ID is required")
	}
	for i := 0; i < len(o.FeedID); i++ {
		c := o.FeedID[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '-' || c == '_') {
			return fault.Newf(fault.Invalid, "gtfs_feed_id", "数据源 ID %q 只能包含字母、数字、- 和 _", "feed ID %q may only hold letters, digits, - and _", o.FeedID)
		}
	}
	switch o.Mode {
	case "":
		o.Mode = network.ModeRail
	case network.ModeRail, network.ModeMetro:
	default:
		return fault.Newf(fault.Invalid, "gtfs_mode", "未知的网络类型 %q", "unknown network mode %q", o.Mode)
	}
	return nil
}

// ParseFile reads the GTFS zip feed at path; see Parse.
func ParseFile(path string, opts Options) (*network.Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		fe := fault.Newf(fault.Invalid, "gtfs_unreadable", "无法打开 GTFS 文件 %s", "cannot open GTFS file %s", path)
		fe.Err = err
		return nil, fe
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fault.Wrap(err, "stat "+path)
	}
	return Parse(f, st.Size(), opts)
}

// Parse reads a GTFS zip feed of size bytes into a bundle, failing with an
// *Error at the first problem.
func Parse(r io.ReaderAt, size int64, opts Options) (*network.Bundle, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, size)); err != nil {
		return nil, &Error{Msg: "cannot read archive: " + err.Error(), MsgZH: "无法读取压缩包：" + err.Error()}
	}
	p, err := newParser(r, size, opts)
	if err != nil {
		return nil, err
	}
	p.b.Feed = network.Feed{
		ID:         opts.FeedID,
		Mode:       opts.Mode,
		Digest:     hex.EncodeToString(h.Sum(nil)),
		ImportedAt: time.Now().UTC().Truncate(time.Second),
	}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.b, nil
}

// Import parses the feed at path and writes it to store in one transaction,
// reporting parse progress through opts.Progress and write progress
// through opts.WriteProgress. A feed that fails to parse writes nothing.
func Import(ctx context.Context, store network.Store, path string, opts Options) (network.ImportResult, error) {
	b, err := ParseFile(path, opts)
	if err != nil {
		return network.ImportResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return network.ImportResult{}, err
	}
	if fn := opts.WriteProgress; fn != nil {
		total := BundleRows(b)
		b.Progress = func(done int64) { fn(done, total) }
	}
	return store.ImportBundle(ctx, b)
}

// BundleRows counts the rows a bundle holds across all tables, the feed
// row included: the total for write progress.
func BundleRows(b *network.Bundle) int64 {
	n := 1 + len(b.Agencies) + len(b.Stations) + len(b.Lines) + len(b.Calendars) +
		len(b.Services) + len(b.Transfers) + len(b.CarTypes) + len(b.Fares) + len(b.FareBands) + len(b.GTFSFares)
	for _, l := range b.Lines {
		n += len(l.Stations)
	}
	for _, c := range b.Calendars {
		n += len(c.Exceptions)
	}
	for _, s := range b.Services {
		n += len(s.Stops) + len(s.Cars)
	}
	for _, ct := range b.CarTypes {
		n += len(ct.Seats)
	}
	for _, f := range b.GTFSFares {
		n += len(f.Rules)
	}
	return int64(n)
}
