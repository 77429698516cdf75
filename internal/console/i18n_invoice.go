package console

// invoiceMessages are the catalog entries of the invoice pages
// (/merchant/invoices, /invoices), merged into messages.
var invoiceMessages = map[string]bilingual{
	"nav.minvoices":      {"发票", "Invoices"},
	"nav.minvoices.desc": {"每笔已支付采购的发票与退款的红字发票，可下载 PDF。", "An invoice for every paid purchase and a reversing one for every refund, as PDF."},
	"nav.invoices":       {"发票", "Invoices"},
	"nav.invoices.desc":  {"平台开具的全部发票（蓝字与红字）。", "Every invoice the platform issued, normal and reversing."},

	"inv.title":      {"发票", "Invoices"},
	"inv.intro":      {"已支付的采购、充值与账单各开一张蓝字发票；退款开红字发票冲销原发票。金额含税。", "Every paid purchase, top-up and bill gets an invoice; a refund gets a reversing (red) invoice against it. Amounts include tax."},
	"inv.kind.blue":  {"蓝字", "Normal"},
	"inv.kind.red":   {"红字", "Reversing"},
	"inv.number":     {"发票号码", "Number"},
	"inv.kind":       {"种类", "Kind"},
	"inv.buyer":      {"购买方", "Buyer"},
	"inv.tax_number": {"纳税人识别号", "Tax number"},
	"inv.ref":        {"业务", "Business event"},
	"inv.total":      {"价税合计", "Total"},
	"inv.tax":        {"税额", "Tax"},
	"inv.issued":     {"开票时间", "Issued"},
	"inv.reverses":   {"冲销 %s", "reverses %s"},
	"inv.pdf":        {"下载 PDF", "Download PDF"},
	"inv.none":       {"还没有发票。", "No invoices yet."},
	"inv.filter.all": {"全部", "All"},
	"inv.more":       {"更早的发票", "Older invoices"},
	"inv.of_ref":     {"业务 %s 的发票", "Invoices of %s"},
	"inv.link":       {"发票", "Invoice"},
	"export.xlsx":    {"XLSX", "XLSX"},
	"inv.sweep_hint": {"采购支付或退款完成后一分钟内开票。", "Invoices are issued within a minute of a purchase being paid or a refund finishing."},
}

func init() {
	for k, v := range invoiceMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
