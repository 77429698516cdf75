package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUploadFormsLeaveNoTemporaryFiles: an upload form larger than the
// memory it is parsed in spills to temporary files, which are removed once
// the page is answered, refused or not.
func TestUploadFormsLeaveNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	e := newEnv(t)
	stranger := e.client(t)
	_, page := stranger.get("/merchants/apply")
	fields := map[string]string{"csrf": csrfIn(page), "legal_name": "临时文件商城", "credit_code": "BAD", "contact_name": "王经理",
		"contact_phone": "13912345678", "admin_username": "tmp-admin", "admin_password": "correct horse", "admin_password2": "correct horse"}
	big := string(consolePDF) + strings.Repeat(" ", 9<<20) // over the 8 MiB the form is parsed in
	resp, body := stranger.postMultipart("/merchants/apply", fields, [][3]string{{"licence", "a.pdf", big}})
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Fatalf("application: %d %s", resp.StatusCode, body)
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
