package gtfs_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"piao/internal/gtfs"
	"piao/internal/network"
)

const lirrPath = "../../testdata/lirr.zip"

// feedFiles is the content of a feed's files by name.
type feedFiles map[string][]byte

// readZip loads every file of a zip archive.
func readZip(t testing.TB, path string) feedFiles {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	files := feedFiles{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
	}
	return files
}

// clone copies the file map (contents are never modified in place).
func (ff feedFiles) clone() feedFiles {
	out := make(feedFiles, len(ff))
	for k, v := range ff {
		out[k] = v
	}
	return out
}

// zip builds an archive of the files in name order.
func (ff feedFiles) zip(t testing.TB) []byte {
	t.Helper()
	names := make([]string, 0, len(ff))
	for n := range ff {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Store}) // fast to build
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(ff[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// parse parses the files as a feed named "t".
func (ff feedFiles) parse(t testing.TB, opts gtfs.Options) (*network.Bundle, error) {
	t.Helper()
	z := ff.zip(t)
	if opts.FeedID == "" {
		opts.FeedID = "t"
	}
	return gtfs.Parse(bytes.NewReader(z), int64(len(z)), opts)
}

// records reads a CSV file of the feed (header first).
func (ff feedFiles) records(t testing.TB, name string) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(ff[name], []byte("\xEF\xBB\xBF"))))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return recs
}

// lines splits a file of simple (unquoted, single-line) CSV into lines, without line ends.
func lines(b []byte) []string {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func join(ls []string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }

// setCell returns a copy of a simple CSV file with the cell at a 1-based
// line and a named column set to v.
func setCell(t testing.TB, b []byte, line int, column, v string) []byte {
	t.Helper()
	ls := lines(b)
	col := indexOf(strings.Split(ls[0], ","), column)
	if col < 0 {
		t.Fatalf("no column %s", column)
	}
	f := strings.Split(ls[line-1], ",")
	f[col] = v
	ls[line-1] = strings.Join(f, ",")
	return join(ls)
}

// cell returns the cell at a 1-based line and a named column of a simple CSV file.
func cell(t testing.TB, b []byte, line int, column string) string {
	t.Helper()
	ls := lines(b)
	col := indexOf(strings.Split(ls[0], ","), column)
	if col < 0 {
		t.Fatalf("no column %s", column)
	}
	return strings.Split(ls[line-1], ",")[col]
}

// dropColumn returns a copy of a simple CSV file without a column.
func dropColumn(t testing.TB, b []byte, column string) []byte {
	t.Helper()
	ls := lines(b)
	col := indexOf(strings.Split(ls[0], ","), column)
	if col < 0 {
		t.Fatalf("no column %s", column)
	}
	for i, l := range ls {
		f := strings.Split(l, ",")
		ls[i] = strings.Join(append(f[:col:col], f[col+1:]...), ",")
	}
	return join(ls)
}

// setLine replaces a whole 1-based line of a file.
func setLine(b []byte, line int, v string) []byte {
	ls := lines(b)
	ls[line-1] = v
	return join(ls)
}

// deleteLines removes the 1-based lines for which drop is true.
func deleteLines(b []byte, drop func(line int, text string) bool) []byte {
	var out []string
	for i, l := range lines(b) {
		if !drop(i+1, l) {
			out = append(out, l)
		}
	}
	return join(out)
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// smallFeed is a valid feed touching every file the parser reads: two
// agencies, a parent station, an untimed stop, a trip past midnight,
// shape distances, transfers and fares.
func smallFeed() feedFiles {
	return feedFiles{
		"agency.txt": []byte("\xEF\xBB\xBFagency_id,agency_name,agency_url,agency_timezone,agency_lang\n" +
			"A,Alpha Rail,https://alpha.example,Asia/Shanghai,zh\n" +
			"B,Beta Metro,https://beta.example,Asia/Shanghai,zh\n"),
		"stops.txt": []byte("stop_id,stop_code,stop_name,stop_lat,stop_lon,zone_id,location_type,parent_station,wheelchair_boarding,platform_code\n" +
			"S,SSS,Central,31.2,121.4,,1,,1,\n" +
			"S1,,Central platform 1,31.2,121.4,z1,0,S,1,1\n" +
			"X2,XX,\"Second\nStreet\",31.3,121.5,z2,,,,\n" +
			"X3,XY,Third,31.4,121.6,z2,0,,2,\n" +
			"X4,XZ,Fourth,-31.5,-121.7,z3,0,,0,\n"),
		"routes.txt": []byte("route_id,agency_id,route_short_name,route_long_name,route_type,route_color,route_text_color\n" +
			"R1,A,G1,Main Line,2,ff0000,FFFFFF\n" +
			"R2,B,2,,1,,\n"),
		"calendar.txt": []byte("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n" +
			"WK,1,1,1,1,1,0,0,20260101,20261231\n"),
		"calendar_dates.txt": []byte("service_id,date,exception_type\n" +
			"WK,20260101,2\n" +
			"HOL,20260501,1\n"),
		"trips.txt": []byte("route_id,service_id,trip_id,trip_headsign,trip_short_name,direction_id,shape_id,bikes_allowed\n" +
			"R1,WK,T1,Fourth,G101,0,SH1,1\n" +
			"R1,HOL,T2,Central,,1,,\n" +
			"R2,WK,T3,Fourth,,,,\n"),
		"stop_times.txt": []byte("trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type,shape_dist_traveled\n" +
			"T1,8:00:00,08:00:00,S1,1,0,1,0\n" +
			"T1,,,X2,2,,,5\n" +
			"T1,,,X3,3,,,15\n" +
			"T1,08:30:00,08:32:00,X4,4,1,0,20\n" +
			"T2,23:50:00,23:50:00,X4,1,,,\n" +
			"T2,24:10:00,,X3,2,,,\n" +
			"T2,,24:40:00,S1,5,,,\n" +
			"T3,06:00:00,06:00:00,X2,10,,,\n" +
			"T3,06:05:00,06:05:00,X3,20,,,\n"),
		"transfers.txt": []byte("from_stop_id,to_stop_id,from_route_id,to_route_id,from_trip_id,to_trip_id,transfer_type,min_transfer_time\n" +
			"S1,X2,,,,,2,180\n" +
			"X4,X4,R1,R1,T1,T2,1,\n" +
			",,,,T1,T3,4,\n"),
		"fare_attributes.txt": []byte("fare_id,price,currency_type,payment_method,transfers,agency_id,transfer_duration\n" +
			"F1,2.50,CNY,0,,A,3600\n" +
			"F2,300,JPY,1,1,B,\n"),
		"fare_rules.txt": []byte("fare_id,route_id,origin_id,destination_id,contains_id\n" +
			"F1,R1,z1,z2,\n" +
			"F1,,,,z3\n" +
			"F2,R2,,,\n"),
		"feed_info.txt": []byte("feed_publisher_name,feed_publisher_url,feed_lang,feed_start_date,feed_end_date\n" +
			"Test Publisher,https://example.org,zh,20260101,20261231\n"),
		"shapes.txt": []byte("ignored,entirely\n1,2\n"),
	}
}
