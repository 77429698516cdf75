package layers_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "piao/"

// layer names where a package sits; the rules below say what each may import.
type layer string

const (
	domain  layer = "domain"  // rules and services: no I/O adapters
	store   layer = "store"   // the storage engines and what they share
	adapter layer = "adapter" // HTTP API, console pages, the sandbox gateway's pages
	wiring  layer = "wiring"  // main, app assembly, simulator, benchmarks, end-to-end tests
)

// layerOf places a package (its path inside the module).
func layerOf(pkg string) layer {
	switch {
	case strings.HasPrefix(pkg, "cmd/"),
		pkg == "internal/app", strings.HasPrefix(pkg, "internal/app/"),
		pkg == "internal/simulate", pkg == "internal/bench", pkg == "internal/e2e",
		pkg == "internal/layers":
		return wiring
	case pkg == "internal/store", strings.HasPrefix(pkg, "internal/store/"):
		return store
	case pkg == "internal/httpapi", pkg == "internal/console", pkg == "internal/problem":
		return adapter
	}
	return domain
}

// allowed says whether a package in layer from may import pkg.
func allowed(from, to string) (bool, string) {
	lf, lt := layerOf(from), layerOf(to)
	switch lf {
	case wiring:
		return true, ""
	case domain:
		if from == "internal/payment/sandbox" && to == "internal/problem" {
			return true, "" // the sandbox gateway serves its own pages and answers problem+json
		}
		return lt == domain, "a domain package imports no adapter, store or wiring"
	case store:
		if (from == "internal/store/sqlite" && to == "internal/store/postgres") ||
			(from == "internal/store/postgres" && to == "internal/store/sqlite") {
			return false, "an engine does not import the other engine"
		}
		if from == "internal/store/sqlrow" && (to == "internal/store/sqlite" || to == "internal/store/postgres") {
			return false, "the shared helpers import no engine"
		}
		return lt == domain || lt == store, "a store imports domain packages and the store's own helpers only"
	case adapter:
		return lt == domain || to == "internal/problem", "an adapter calls services: it imports domain packages and internal/problem, never a store or another adapter"
	}
	return false, "unknown layer"
}

// TestImportRules reads every non-test Go file of the module and checks
// each import of a module package against the layer rules.
func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]map[string]bool{} // package → module packages it imports
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if !strings.HasPrefix(p, module) {
				continue
			}
			if imports[pkg] == nil {
				imports[pkg] = map[string]bool{}
			}
			imports[pkg][strings.TrimPrefix(p, module)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 10 {
		t.Fatalf("read the imports of only %d packages from %s: is the walk rooted right?", len(imports), root)
	}
	var broken []string
	for from, tos := range imports {
		for to := range tos {
			if ok, why := allowed(from, to); !ok {
				broken = append(broken, from+" imports "+to+": "+why)
			}
		}
	}
	sort.Strings(broken)
	for _, b := range broken {
		t.Error(b)
	}
}

// TestRulesCatchBreaks checks the rules themselves on imports that must be refused.
func TestRulesCatchBreaks(t *testing.T) {
	for _, c := range []struct{ from, to string }{
		{"internal/booking", "internal/httpapi"},
		{"internal/booking", "internal/store/sqlite"},
		{"internal/payment/sandbox", "internal/httpapi"},
		{"internal/console", "internal/httpapi"},
		{"internal/httpapi", "internal/store/postgres"},
		{"internal/store/sqlite", "internal/store/postgres"},
		{"internal/store/sqlrow", "internal/store/sqlite"},
		{"internal/metro", "internal/app"},
	} {
		if ok, _ := allowed(c.from, c.to); ok {
			t.Errorf("%s importing %s is allowed; the rules must refuse it", c.from, c.to)
		}
	}
	for _, c := range []struct{ from, to string }{
		{"internal/httpapi", "internal/booking"},
		{"internal/store/sqlite", "internal/store/sqlrow"},
		{"internal/app", "internal/store/postgres"},
		{"internal/payment/sandbox", "internal/problem"},
		{"internal/metro", "internal/network"},
	} {
		if ok, why := allowed(c.from, c.to); !ok {
			t.Errorf("%s importing %s is refused (%s); the rules must allow it", c.from, c.to, why)
		}
	}
}
