package ledger

import (
	"context"
	"time"

	"piao/internal/fault"
	"piao/internal/sheet"
)

// ExportMax bounds one export of entries: beyond it the export is refused
// (narrow the dates) rather than cut short, since a ledger export missing
// rows would not add up.
const ExportMax = 50_000

// ErrExportTooLarge refuses an export of more than ExportMax entries.
var ErrExportTooLarge = fault.Newf(fault.Invalid, "export_too_large", "导出超过 %d 条分录，请缩小日期范围", "the export holds more than %d entries: narrow the dates", ExportMax)

// EntriesTable returns every entry f selects (its Limit and BeforeID
// ignored) as a table of one row per posting, newest entry first, times in
// loc: what the finance team opens in a spreadsheet.
func (s *Service) EntriesTable(ctx context.Context, f Filter, loc *time.Location) (sheet.Table, error) {
	t := sheet.Table{Name: "ledger", Header: []string{"entry_id", "at", "posted_at", "key", "kind", "ref", "external", "reverses", "memo",
		"line", "account", "account_name", "party", "debit_fen", "credit_fen"}}
	f.BeforeID, f.Limit = 0, 500
	entries := 0
	for {
		p, err := s.Entries(ctx, f)
		if err != nil {
			return t, err
		}
		entries += len(p.Entries)
		if entries > ExportMax {
			return t, ErrExportTooLarge
		}
		for _, e := range p.Entries {
			for i, ps := range e.Postings {
				a, _ := Lookup(ps.Account)
				var rev any = ""
				if e.Reverses != 0 {
					rev = e.Reverses
				}
				t.Add(e.ID, e.At.In(loc).Format(time.RFC3339), e.PostedAt.In(loc).Format(time.RFC3339), e.Key, e.Kind, e.Ref, e.External, rev, e.Memo,
					i+1, string(ps.Account), a.Name+" "+a.Zh, ps.Party, ps.Debit, ps.Credit)
			}
		}
		if p.NextBefore == 0 {
			return t, nil
		}
		f.BeforeID = p.NextBefore
	}
}
