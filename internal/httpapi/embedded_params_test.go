package httpapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoParamsInEmbeddedStructs: huma fills no query, path or header
// parameter declared in an embedded unexported struct, so such a field is
// silently ignored (a filter that never filters). Input types declare their
// parameters themselves.
func TestNoParamsInEmbeddedStructs(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	structs := map[string]*ast.StructType{}
	var parsed []*ast.File
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					structs[ts.Name.Name] = st
				}
			}
			return true
		})
	}
	hasParams := func(st *ast.StructType) bool {
		for _, f := range st.Fields.List {
			if f.Tag != nil && (strings.Contains(f.Tag.Value, `query:"`) || strings.Contains(f.Tag.Value, `path:"`) || strings.Contains(f.Tag.Value, `header:"`)) {
				return true
			}
		}
		return false
	}
	for name, st := range structs {
		for _, f := range st.Fields.List {
			id, ok := f.Type.(*ast.Ident)
			if len(f.Names) != 0 || !ok || ast.IsExported(id.Name) {
				continue
			}
			if inner := structs[id.Name]; inner != nil && hasParams(inner) {
				t.Errorf("%s embeds %s, whose parameters huma never fills: declare them in %s", name, id.Name, name)
			}
		}
	}
}
