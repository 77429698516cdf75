package httpapi

import (
	_ "embed"
	"html/template"
	"net/http"
	"sort"

	"github.com/danielgtaylor/huma/v2"
)

//go:embed docs.html
var docsHTML string

var docsTemplate = template.Must(template.New("docs").Parse(docsHTML))

type docsOp struct {
	Method, Path string
	Op           *huma.Operation
}

// docs renders the OpenAPI document as a readable page, without scripts or
// anything fetched from elsewhere.
func (s *Server) docs(w http.ResponseWriter, r *http.Request) {
	oa := s.api.OpenAPI()
	var ops []docsOp
	for path, item := range oa.Paths {
		for _, o := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if o != nil {
				ops = append(ops, docsOp{o.Method, path, o})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Op.Tags[0] != ops[j].Op.Tags[0] {
			return ops[i].Op.Tags[0] < ops[j].Op.Tags[0]
		}
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = docsTemplate.Execute(w, map[string]any{"Info": oa.Info, "Ops": ops})
}
