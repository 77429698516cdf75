package console

import (
	"context"
	"strings"

	"piao/internal/network"
)

// placeNames names stations and lines by their IDs in a language, for
// pages that hold IDs (a product's scope): each is looked up once per
// page. An ID the network does not know, or cannot look up now, shows as
// itself: the name only dresses an ID the page shows correctly anyway.
type placeNames struct {
	ctx   context.Context
	net   *network.Catalog // nil: every ID shows as itself
	l     lang
	names map[string]string
}

// placeNames starts the names of one page.
func (c *Console) placeNames(ctx context.Context, l lang) *placeNames {
	return &placeNames{ctx: ctx, net: c.deps.Catalog, l: l, names: map[string]string{}}
}

// station names the station id.
func (p *placeNames) station(id string) string {
	return p.lookup("station:"+id, id, func() (string, error) {
		s, err := p.net.Station(p.ctx, id)
		return stationName(s, p.l), err
	})
}

// line names the line id.
func (p *placeNames) line(id string) string {
	return p.lookup("line:"+id, id, func() (string, error) {
		ln, err := p.net.Line(p.ctx, id)
		return pickName(ln.NameZH, ln.NameEN, p.l), err
	})
}

func (p *placeNames) lookup(key, id string, find func() (string, error)) string {
	if p == nil || p.net == nil {
		return id
	}
	if n, ok := p.names[key]; ok {
		return n
	}
	n, err := find()
	if err != nil || n == "" {
		n = id
	}
	p.names[key] = n
	return n
}

// pinyinName writes pinyin syllables as a name: "nan chang xi" → "Nanchangxi".
func pinyinName(syllables []string) string {
	name := strings.Join(syllables, "")
	if name == "" {
		return ""
	}
	return strings.ToUpper(name[:1]) + name[1:]
}
