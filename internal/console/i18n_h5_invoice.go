package console

// h5InvoiceMessages are the catalog entries of the passenger's invoice
// page (/h5/invoices), merged into messages.
var h5InvoiceMessages = map[string]bilingual{
	"nav.h5invoices":      {"我的发票", "My invoices"},
	"nav.h5invoices.desc": {"购票的发票与退票的红字发票，可下载 PDF。", "An invoice for every ticket purchase and a reversing one for every refund, as PDF."},
	"h5inv.title":         {"我的发票", "My invoices"},
	"h5inv.intro":         {"每笔已支付的购票开一张发票，退票开红字发票冲销原发票；支付或退款完成后一分钟内开具。金额含税。", "Every paid ticket purchase gets an invoice, and every refund a reversing (red) one against it, within a minute of the payment or refund. Amounts include tax."},
	"h5inv.list_h":        {"发票", "Invoices"},
	"h5inv.none":          {"还没有发票：购票支付后会在这里出现。", "No invoices yet: they appear here once a ticket purchase is paid."},
}

func init() {
	for k, v := range h5InvoiceMessages {
		if _, dup := messages[k]; dup {
			panic("console: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
