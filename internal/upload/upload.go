// Package upload checks files people upload (a merchant's papers, a
// campaign's cover) before anything stores them: the type is read from the
// content, never trusted from the name or the client's header, and the size
// is bounded. It is pure: bytes in, a verdict out.
package upload

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"piao/internal/fault"
)

// Content types piao accepts.
const (
	PDF  = "application/pdf"
	PNG  = "image/png"
	JPEG = "image/jpeg"
)

// Rule is what one kind of upload may be.
type Rule struct {
	Types   []string // accepted content types, as sniffed
	MaxSize int      // bytes
}

// Papers are business licences and other documents: PDF or an image, at
// most 5 MiB each.
var Papers = Rule{Types: []string{PDF, PNG, JPEG}, MaxSize: 5 << 20}

// Covers are a campaign's brand image: PNG or JPEG, at most 1 MiB.
var Covers = Rule{Types: []string{PNG, JPEG}, MaxSize: 1 << 20}

// File is an upload that passed its rule.
type File struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	SHA256      string `json:"sha256"` // hex
	Data        []byte `json:"-"`
}

// Check reads data's type from its first bytes and checks it and the size
// against r, returning the file with a cleaned name. Errors are Invalid
// with reasons empty_file, file_too_large and file_type.
func (r Rule) Check(name string, data []byte) (File, error) {
	if len(data) == 0 {
		return File{}, fault.New(fault.Invalid, "empty_file", "文件为空", "the file is empty")
	}
	if len(data) > r.MaxSize {
		return File{}, fault.Newf(fault.Invalid, "file_too_large", "文件过大：上限 %s", "the file is too large: the limit is %s", size(r.MaxSize))
	}
	ct := http.DetectContentType(data)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !slices.Contains(r.Types, ct) {
		return File{}, fault.Newf(fault.Invalid, "file_type", "不支持的文件类型 %s，可上传：%s", "%s files are not accepted; upload %s", ct, strings.Join(r.Types, ", "))
	}
	sum := sha256.Sum256(data)
	return File{Name: CleanName(name), ContentType: ct, Size: len(data), SHA256: hex.EncodeToString(sum[:]), Data: data}, nil
}

// CleanName keeps a file name fit to show and to send back in a
// Content-Disposition header: the last path element, printable characters
// only, at most 100 characters; "file" if nothing is left.
func CleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	var b strings.Builder
	n := 0
	for _, r := range name {
		if n == 100 {
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) || strings.ContainsRune(`"/\;`, r) {
			continue
		}
		b.WriteRune(r)
		n++
	}
	out := strings.TrimSpace(b.String())
	if out == "" || out == "." || out == ".." {
		return "file"
	}
	return out
}

func size(n int) string {
	if n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + " MiB"
	}
	return strconv.Itoa(n>>10) + " KiB"
}
