package console

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"piao/internal/identity"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// templates holds one parsed template set per page, each with the layout.
type templates map[string]*template.Template

// mustParseTemplates parses every page together with the base layout.
func mustParseTemplates() templates {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := templates{}
	for _, n := range names {
		if n == "templates/base.html" {
			continue
		}
		out[n[len("templates/"):]] = template.Must(template.New("base.html").ParseFS(templateFS, "templates/base.html", n))
	}
	return out
}

// navItem is a link in the main navigation.
type navItem struct {
	Key, Path string
	Current   bool
}

// navigation lists the sections in menu order; items whose page the role
// may not open are hidden. Later sections (订单, 营销, 治理…) go here once
// their pages exist.
var navigation = []navItem{
	{Key: "nav.home", Path: "/"},
	{Key: "nav.network", Path: "/network"},
}

// view is what every page template receives.
type view struct {
	Lang      lang
	Title     string
	Principal identity.Principal
	CSRF      string
	Nav       []navItem
	LangLinks []langLink
	Version   string
	RequestID string
	Error     *bilingual // shown at the top of the page in both languages
	Data      any        // the page's own data
}

// langLink is one entry of the language switch.
type langLink struct {
	Label, Tag, URL string
	Current         bool
}

// alert is a bilingual message with the page's language first.
type alert struct {
	Lang lang
	Msg  bilingual
}

// Alert pairs a message with the page's language for the "alert" template.
func (v *view) Alert(m *bilingual) alert { return alert{v.Lang, *m} }

// RoleName is the user's role in the page's language.
func (v *view) RoleName() string { return v.Lang.T("role." + string(v.Principal.Role())) }

// newView fills the layout's data for a request.
func (c *Console) newView(r *http.Request, st *state, titleKey string) *view {
	v := &view{Lang: st.lang, Title: st.lang.T(titleKey), Principal: st.principal, CSRF: st.csrf(), Version: c.deps.Version}
	if !st.principal.Anonymous() {
		section := r.URL.Path
		for _, it := range navigation {
			if !identity.Allowed(st.principal.Role(), c.permission(it.Path)) {
				continue
			}
			it.Current = section == it.Path || it.Path != "/" && strings.HasPrefix(section, it.Path+"/")
			v.Nav = append(v.Nav, it)
		}
	}
	back := localPath(r.URL.RequestURI())
	if r.Method != http.MethodGet {
		back = localPath(r.URL.Path)
	}
	for _, l := range []struct {
		to    lang
		label string
	}{{zh, "中文"}, {en, "English"}} {
		v.LangLinks = append(v.LangLinks, langLink{Label: l.label, Tag: l.to.Tag(), Current: l.to == st.lang,
			URL: "/lang?to=" + string(l.to) + "&back=" + url.QueryEscape(back)})
	}
	return v
}

// render executes a page into a buffer, then writes it with status; a
// template failure becomes a plain 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	v.RequestID = w.Header().Get("X-Request-Id")
	var buf bytes.Buffer
	if err := c.pages[page].Execute(&buf, v); err != nil {
		slog.ErrorContext(r.Context(), "console template", "page", page, "err", err.Error())
		http.Error(w, "internal error 服务器内部错误", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderError shows a bilingual message on an error page.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, st *state, status int, m bilingual) {
	key := "title.error"
	if status == http.StatusForbidden {
		key = "title.denied"
	}
	v := c.newView(r, st, key)
	v.Error = &m
	c.render(w, r, status, "error.html", v)
}

// static serves the embedded stylesheet and other assets.
func (c *Console) static(w http.ResponseWriter, r *http.Request, _ *state) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeFileFS(w, r, staticFS, "static/"+r.PathValue("file"))
}
