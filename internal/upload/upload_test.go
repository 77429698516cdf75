package upload_test

import (
	"bytes"
	"strings"
	"testing"

	"piao/internal/fault"
	"piao/internal/upload"
)

var (
	pdf  = []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n")
	png  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	jpeg = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	html = []byte("<html><script>alert(1)</script></html>")
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		rule   upload.Rule
		file   string
		data   []byte
		reason string // "" accepted
		ct     string
	}{
		{"pdf paper", upload.Papers, "licence.pdf", pdf, "", upload.PDF},
		{"png paper", upload.Papers, "licence.png", png, "", upload.PNG},
		{"jpeg cover", upload.Covers, "cover.jpg", jpeg, "", upload.JPEG},
		{"pdf is no cover", upload.Covers, "cover.pdf", pdf, "file_type", ""},
		{"html named pdf", upload.Papers, "licence.pdf", html, "file_type", ""},
		{"empty", upload.Papers, "x.pdf", nil, "empty_file", ""},
		{"too large", upload.Covers, "big.png", append(bytes.Clone(png), make([]byte, 1<<20)...), "file_too_large", ""},
	}
	for _, c := range cases {
		f, err := c.rule.Check(c.file, c.data)
		if c.reason == "" {
			if err != nil || f.ContentType != c.ct || f.Size != len(c.data) || len(f.SHA256) != 64 {
				t.Errorf("%s: %+v, %v", c.name, f, err)
			}
			continue
		}
		if err == nil || fault.As(err).Reason != c.reason {
			t.Errorf("%s: err = %v, want %s", c.name, err, c.reason)
		}
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"../../etc/passwd":       "passwd",
		`C:\docs\营业执照.pdf`:       "营业执照.pdf",
		"a\"b;c\r\n.pdf":         "abc.pdf",
		"":                       "file",
		"..":                     "file",
		strings.Repeat("长", 300): strings.Repeat("长", 100),
	} {
		if got := upload.CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("a.pdf", pdf)
	f.Add("b.png", png)
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		file, err := upload.Papers.Check(name, data)
		if err != nil {
			return
		}
		if file.Size > upload.Papers.MaxSize || file.Name == "" || strings.ContainsAny(file.Name, "/\\\"\r\n") {
			t.Fatalf("accepted %+v", file)
		}
	})
}
