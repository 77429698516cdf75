package httpapi_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestUploadsLeaveNoTemporaryFiles: a multipart body larger than the
// memory huma parses it in spills to temporary files; they are removed
// once the request is answered, refused or not, so strangers sending
// applications cannot fill the disk.
func TestUploadsLeaveNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	s := newTestServer(t)
	big := append(append([]byte{}, testPDF...), bytes.Repeat([]byte{' '}, 1<<20)...)
	for i := range 3 {
		// Refused (a bad credit code) after the form was read: the files
		// were written all the same.
		res := s.postForm(t, "/api/v1/merchant-applications", application("临时文件商城", "BAD", "tmp-admin"), []paperFile{{"licence", "a.pdf", big}, {"other", "b.pdf", big}})
		if res.status < 400 || res.status >= 500 {
			t.Fatalf("application %d: %d %s", i, res.status, res.body)
		}
	}
	left, err := filepath.Glob(filepath.Join(dir, "multipart-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		var sizes []int64
		for _, f := range left {
			if st, err := os.Stat(f); err == nil {
				sizes = append(sizes, st.Size())
			}
		}
		t.Fatalf("%d temporary upload files left behind (sizes %v)", len(left), sizes)
	}
}
