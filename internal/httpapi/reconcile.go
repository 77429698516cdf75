package httpapi

import (
	"bytes"
	"context"
	"strconv"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/ledger"
	"piao/internal/reconcile"
	"piao/internal/sheet"
)

// errReconcileOff answers reconciliation routes in a process without the service.
var errReconcileOff = fault.New(fault.Unavailable, "reconciliation_unavailable", "本服务未开启对账", "reconciliation does not run in this process")

// reconcileRoutes are the reconciliation runs (operator finance) and the
// monthly statements of merchants and employers (their own, and the
// operator's view of any).
func (s *Server) reconcileRoutes() {
	g := s.group(s.deps.Reconcile != nil, errReconcileOff)
	const tag = "reconciliation"
	add(g, identity.LedgerWrite, op("POST", "/api/v1/reconciliations", "runReconciliation", tag,
		"Reconcile a day (Asia/Shanghai) three ways — the channel's statement, piao's records of money through the gateway, the ledger — by the channel's transaction IDs, and store the run with every difference (missing on a side, amount differs, duplicate, fees posted at another amount). "+
			"The day's net channel fee is posted to the ledger once (Dr 6603 / Cr 1101, key fees:<day>). Running a day again adds a run",
		"按日三方对账（渠道对账单、业务记录、总账），记录每一处差异；当日渠道手续费入账一次"), s.runReconciliation)
	add(g, identity.LedgerRead, op("GET", "/api/v1/reconciliations", "listReconciliations", tag, "Reconciliation runs, newest first, without their differences", "对账记录列表"), s.listReconciliations)
	add(g, identity.LedgerRead, op("GET", "/api/v1/reconciliations/{id}", "getReconciliation", tag, "A reconciliation run with every difference", "对账记录及其差异"), s.getReconciliation)
	add(g, identity.LedgerRead, op("GET", "/api/v1/reconciliations/{id}/export", "exportReconciliation", tag, "A run's differences as CSV or XLSX (?format=csv|xlsx, ?lang=zh|en)", "导出对账差异（CSV 或 XLSX）"), s.exportReconciliation)
	add(g, identity.MerchantFinance, op("GET", "/api/v1/merchant/statements/{month}", "getMyStatement", tag,
		"The caller's merchant (or employer) statement of a month (YYYY-MM): per account the opening balance, every posting with the balance after it, the closing balance", "本商户月度对账单"), s.myStatement)
	add(g, identity.MerchantFinance, op("GET", "/api/v1/merchant/statements/{month}/export", "exportMyStatement", tag, "The caller's monthly statement as CSV or XLSX (?format=csv|xlsx, ?lang=zh|en)", "导出本商户月度对账单"), s.myStatementExport)
	add(g, identity.LedgerRead, op("GET", "/api/v1/merchants/{id}/statements/{month}", "getMerchantStatement", tag, "A merchant's or employer's statement of a month (YYYY-MM)", "商户（或用人单位）月度对账单"), s.merchantStatement)
	add(g, identity.LedgerRead, op("GET", "/api/v1/merchants/{id}/statements/{month}/export", "exportMerchantStatement", tag, "A merchant's monthly statement as CSV or XLSX (?format=csv|xlsx, ?lang=zh|en)", "导出商户月度对账单"), s.merchantStatementExport)
}

type runReconciliationInput struct {
	Body struct {
		Date string `json:"date" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" doc:"The day, YYYY-MM-DD (Asia/Shanghai)"`
	}
}

func (s *Server) runReconciliation(ctx context.Context, in *runReconciliationInput) (*body[reconcile.Run], error) {
	p := PrincipalFrom(ctx)
	run, err := s.deps.Reconcile.Reconcile(ctx, in.Body.Date, nil, "account:"+strconv.FormatInt(p.Account.ID, 10))
	if err != nil {
		return nil, err
	}
	return &body[reconcile.Run]{Body: run}, nil
}

type listReconciliationsInput struct {
	Day      string `query:"day" pattern:"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$" doc:"Only the runs of this day"`
	BeforeID int64  `query:"before" minimum:"0" doc:"Only runs with a smaller ID (the next page)"`
	Limit    int    `query:"limit" minimum:"0" maximum:"200" doc:"At most this many (50 when zero)"`
}

type runList struct {
	Runs []reconcile.Run `json:"runs"`
}

func (s *Server) listReconciliations(ctx context.Context, in *listReconciliationsInput) (*body[runList], error) {
	runs, err := s.deps.Reconcile.Runs(ctx, reconcile.RunFilter{Day: in.Day, BeforeID: in.BeforeID, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	if runs == nil {
		runs = []reconcile.Run{}
	}
	return &body[runList]{Body: runList{Runs: runs}}, nil
}

type reconciliationPath struct {
	ID int64 `path:"id" minimum:"1"`
}

func (s *Server) getReconciliation(ctx context.Context, in *reconciliationPath) (*body[reconcile.Run], error) {
	run, err := s.deps.Reconcile.Run(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &body[reconcile.Run]{Body: run}, nil
}

type exportReconciliationInput struct {
	ID     int64  `path:"id" minimum:"1"`
	Format string `query:"format" enum:"csv,xlsx," doc:"csv (default) or xlsx"`
	Lang   string `query:"lang" enum:"zh,en," doc:"Column names and texts in zh (default) or en"`
}

// sheetFile writes t in the format asked for.
func sheetFile(format, base string, t sheet.Table) (*fileOutput, error) {
	f, err := sheet.ParseFormat(format)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := sheet.Write(&b, f, t); err != nil {
		return nil, err
	}
	return &fileOutput{ContentType: f.ContentType(), ContentDisposition: `attachment; filename="` + f.FileName(base) + `"`, ContentTypeOptions: "nosniff", Body: b.Bytes()}, nil
}

// exportLang is the language of an export: zh unless en is asked for.
func exportLang(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "zh"
}

func (s *Server) exportReconciliation(ctx context.Context, in *exportReconciliationInput) (*fileOutput, error) {
	run, err := s.deps.Reconcile.Run(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return sheetFile(in.Format, "reconciliation-"+run.Day+"-"+strconv.FormatInt(run.ID, 10), run.Table(exportLang(in.Lang)))
}

type monthPath struct {
	Month string `path:"month" pattern:"^[0-9]{4}-[0-9]{2}$" doc:"The month, YYYY-MM (Asia/Shanghai)"`
}

type merchantMonthPath struct {
	ID    int64  `path:"id" minimum:"1"`
	Month string `path:"month" pattern:"^[0-9]{4}-[0-9]{2}$" doc:"The month, YYYY-MM (Asia/Shanghai)"`
}

type myStatementExportInput struct {
	Month  string `path:"month" pattern:"^[0-9]{4}-[0-9]{2}$" doc:"The month, YYYY-MM (Asia/Shanghai)"`
	Format string `query:"format" enum:"csv,xlsx," doc:"csv (default) or xlsx"`
	Lang   string `query:"lang" enum:"zh,en," doc:"Column names and texts in zh (default) or en"`
}

type merchantStatementExportInput struct {
	ID     int64  `path:"id" minimum:"1"`
	Month  string `path:"month" pattern:"^[0-9]{4}-[0-9]{2}$" doc:"The month, YYYY-MM (Asia/Shanghai)"`
	Format string `query:"format" enum:"csv,xlsx," doc:"csv (default) or xlsx"`
	Lang   string `query:"lang" enum:"zh,en," doc:"Column names and texts in zh (default) or en"`
}

// errNoMerchant answers a merchant route for a caller of no merchant.
var errNoMerchant = fault.New(fault.NotFound, "merchant_not_found", "商户不存在", "merchant not found")

// ownParty is the caller's merchant as a ledger party.
func ownParty(ctx context.Context) (string, int64, error) {
	id := scopeOf(ctx).MerchantID()
	if id <= 0 {
		return "", 0, errNoMerchant
	}
	return ledger.Party("merchant", id), id, nil
}

func (s *Server) myStatement(ctx context.Context, in *monthPath) (*body[reconcile.MonthlyStatement], error) {
	party, _, err := ownParty(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.deps.Reconcile.MonthlyStatement(ctx, party, in.Month)
	if err != nil {
		return nil, err
	}
	return &body[reconcile.MonthlyStatement]{Body: st}, nil
}

func (s *Server) myStatementExport(ctx context.Context, in *myStatementExportInput) (*fileOutput, error) {
	party, id, err := ownParty(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.deps.Reconcile.MonthlyStatement(ctx, party, in.Month)
	if err != nil {
		return nil, err
	}
	return sheetFile(in.Format, "statement-merchant-"+strconv.FormatInt(id, 10)+"-"+in.Month, st.Table(exportLang(in.Lang)))
}

func (s *Server) merchantStatement(ctx context.Context, in *merchantMonthPath) (*body[reconcile.MonthlyStatement], error) {
	st, err := s.deps.Reconcile.MonthlyStatement(ctx, ledger.Party("merchant", in.ID), in.Month)
	if err != nil {
		return nil, err
	}
	return &body[reconcile.MonthlyStatement]{Body: st}, nil
}

func (s *Server) merchantStatementExport(ctx context.Context, in *merchantStatementExportInput) (*fileOutput, error) {
	st, err := s.deps.Reconcile.MonthlyStatement(ctx, ledger.Party("merchant", in.ID), in.Month)
	if err != nil {
		return nil, err
	}
	return sheetFile(in.Format, "statement-merchant-"+strconv.FormatInt(in.ID, 10)+"-"+in.Month, st.Table(exportLang(in.Lang)))
}
