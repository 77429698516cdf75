package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"

	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/problem"
	"piao/internal/realname"
)

// distributionRoutes registers the distribution of a merchant's tickets
// (SPEC V3, B2): lists, code batches, claim links and posters, and the
// revocation of what was not delivered. Merchant routes act within the
// caller's merchant; the operator's revocation of a batch sees every one.
func (s *Server) distributionRoutes() {
	g := s.group(s.deps.Distribution != nil, distribution.ErrNotRunning).and(s.deps.Benefits != nil, benefits.ErrNotRunning)
	const tag = "distribution"
	perm := identity.MerchantDistribution
	add(g, perm, op("POST", "/api/v1/merchant/campaigns/{id}/lists", "uploadDistributionList", tag,
		"Issue one ticket of the merchant's campaign to each line of a CSV list (header phone or account, optionally note; at most 10,000 lines and 1 MiB); every line is checked first and any error refuses the whole list (422, each error naming its line and column). "+
			"If issuing stops before the outcomes are recorded the answer is the list with pending set, finished by its next read or revocation with the same per-line keys. "+
			"Retry an upload with the same Idempotency-Key: the retry answers the first list and issues nothing",
		"上传名单定向发放：逐行校验，有错则整份拒绝且不发放"), s.uploadList)
	add(g, perm, op("GET", "/api/v1/merchant/lists", "listDistributionLists", tag, "The merchant's distribution lists, newest first", "名单列表"), s.listLists)
	add(g, perm, op("GET", "/api/v1/merchant/lists/{id}", "getDistributionList", tag, "A list with each line's outcome (phones masked)", "名单详情与每行结果"), s.getList)
	add(g, perm, op("GET", "/api/v1/merchant/lists/{id}/entries.csv", "exportDistributionList", tag, "A list's lines and outcomes as CSV (phones masked)", "导出名单结果 CSV"), s.exportList)
	add(g, perm, op("POST", "/api/v1/merchant/lists/{id}/revoke", "revokeDistributionList", tag,
		"Revoke the list's tickets not delivered: still held by their recipient, unused, not gifted, not expired; the answer counts each outcome",
		"撤回名单中未使用、未转赠、未过期的票券"), s.revokeList)
	add(g, perm, op("POST", "/api/v1/merchant/lists/{id}/entries/{line}/revoke", "revokeDistributionEntry", tag, "Revoke one line's ticket if it was not delivered", "撤回名单中一行的票券"), s.revokeEntry)
	add(g, perm, op("POST", "/api/v1/merchant/campaigns/{id}/codes", "generateMerchantCodes", tag, "Generate a batch of up to 100,000 redemption codes for the merchant's campaign", "为本商户活动生成兑换码"), s.merchantGenerateCodes)
	add(g, perm, op("GET", "/api/v1/merchant/campaigns/{id}/code-batches", "listMerchantCodeBatches", tag, "The code batches of the merchant's campaign, with redeemed and voided counts", "兑换码批次"), s.merchantCodeBatches)
	add(g, perm, op("GET", "/api/v1/merchant/code-batches/{id}/codes.csv", "exportMerchantCodes", tag, "Export a batch of the merchant's codes as CSV", "导出兑换码 CSV"), s.merchantExportCodes)
	add(g, perm, op("POST", "/api/v1/merchant/code-batches/{id}/revoke", "revokeMerchantCodes", tag,
		"Void every code of the batch not yet redeemed (redeeming one then answers 409 code_revoked); redeemed codes stay", "作废批次中未兑换的兑换码"), s.revokeCodes)
	add(g, perm, op("GET", "/api/v1/merchant/campaigns/{id}/claim-link", "getClaimLink", tag, "The H5 claim link of the merchant's campaign", "领取链接"), s.claimLink)
	add(g, perm, op("GET", "/api/v1/merchant/campaigns/{id}/poster.png", "getClaimPoster", tag, "A QR code poster (PNG) of the campaign's claim link", "领取二维码海报"), s.claimPoster)
	add(g, identity.BenefitsEdit, op("POST", "/api/v1/code-batches/{id}/revoke", "revokeRedeemCodes", tag,
		"Void every code of any batch not yet redeemed (redeeming one then answers 409 code_revoked)", "作废兑换码批次中未兑换的码"), s.revokeCodes)
}

type uploadListInput struct {
	ID       int64  `path:"id" minimum:"1" doc:"Campaign ID"`
	Language string `header:"Accept-Language"`
	RawBody  []byte `contentType:"text/csv" doc:"UTF-8 CSV: a header naming phone or account (and optionally note), then one recipient per line"`
}

// listView is a list with its lines.
type listView struct {
	List    distribution.List    `json:"list"`
	Entries []distribution.Entry `json:"entries"`
}

func (s *Server) uploadList(ctx context.Context, in *uploadListInput) (*body[listView], error) {
	l, es, err := s.deps.Distribution.Upload(ctx, scopeOf(ctx), in.ID, in.RawBody, actor(ctx))
	var re *distribution.RosterError
	if errors.As(err, &re) {
		return nil, rosterProblem(ctx, preferredLanguage(in.Language), re)
	}
	if err != nil {
		return nil, err
	}
	return &body[listView]{Body: listView{List: l, Entries: append([]distribution.Entry{}, es...)}}, nil
}

// rosterProblem is the 422 answer to a refused list: one detail per bad
// line, naming its line and column.
func rosterProblem(ctx context.Context, lang string, re *distribution.RosterError) *problem.Problem {
	f := re.Fault
	p := newProblem(ctx, lang, http.StatusUnprocessableEntity, f.Code, f.Reason, f.ZH, f.EN)
	for _, l := range re.Lines {
		loc := fmt.Sprintf("body.line[%d]", l.Line)
		if l.Column != "" {
			loc += "." + l.Column
		}
		p.Errors = append(p.Errors, problem.ProblemDetail{Location: loc, Message: l.Message()})
	}
	return p
}

type listsInput struct {
	Campaign int64 `query:"campaign" minimum:"0" doc:"Keep one campaign's lists"`
}

type listsOutput struct {
	Body struct {
		Lists []distribution.List `json:"lists"`
	}
}

func (s *Server) listLists(ctx context.Context, in *listsInput) (*listsOutput, error) {
	ls, err := s.deps.Distribution.Lists(ctx, scopeOf(ctx), in.Campaign)
	if err != nil {
		return nil, err
	}
	out := &listsOutput{}
	out.Body.Lists = append([]distribution.List{}, ls...)
	return out, nil
}

func (s *Server) getList(ctx context.Context, in *benefitIDPath) (*body[listView], error) {
	l, es, err := s.deps.Distribution.List(ctx, scopeOf(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &body[listView]{Body: listView{List: l, Entries: append([]distribution.Entry{}, es...)}}, nil
}

func (s *Server) exportList(ctx context.Context, in *benefitIDPath) (*csvOutput, error) {
	_, es, err := s.deps.Distribution.List(ctx, scopeOf(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	rows := [][]string{{"line", "phone", "account", "note", "ticket_id", "outcome", "message", "revoked_at"}}
	for _, e := range es {
		row := []string{strconv.Itoa(e.Line), realname.MaskPhone(e.Phone), strconv.FormatInt(e.Account, 10), cell(e.Note), "", e.Reason, e.Message, ""}
		if e.Phone == "" {
			row[1] = ""
		}
		if e.TicketID != 0 {
			row[4], row[5] = strconv.FormatInt(e.TicketID, 10), "issued"
		}
		if !e.RevokedAt.IsZero() {
			row[5], row[7] = "revoked", e.RevokedAt.In(benefits.Shanghai).Format(time.RFC3339)
		}
		rows = append(rows, row)
	}
	return csvFile(fmt.Sprintf("list-%d.csv", in.ID), rows)
}

// cell keeps a spreadsheet from reading an uploaded text as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type revokeInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body *struct {
		Reason string `json:"reason,omitempty" maxLength:"500" doc:"Why, for the audit trail"`
	} `required:"false"`
}

func (in *revokeInput) reason() string {
	if in.Body == nil {
		return ""
	}
	return in.Body.Reason
}

func (s *Server) revokeList(ctx context.Context, in *revokeInput) (*body[distribution.Revocation], error) {
	return withDistribution(s, func(d *distribution.Service) (distribution.Revocation, error) {
		return d.RevokeList(ctx, scopeOf(ctx), in.ID, 0, actor(ctx), in.reason())
	})
}

type revokeEntryInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Line int   `path:"line" minimum:"2" doc:"The line number in the uploaded file (the header is line 1)"`
}

func (s *Server) revokeEntry(ctx context.Context, in *revokeEntryInput) (*body[distribution.Revocation], error) {
	return withDistribution(s, func(d *distribution.Service) (distribution.Revocation, error) {
		return d.RevokeList(ctx, scopeOf(ctx), in.ID, in.Line, actor(ctx), "")
	})
}

// withDistribution runs fn on the distribution service and answers with
// what fn returns.
func withDistribution[T any](s *Server, fn func(*distribution.Service) (T, error)) (*body[T], error) {
	v, err := fn(s.deps.Distribution)
	if err != nil {
		return nil, err
	}
	return &body[T]{Body: v}, nil
}

func (s *Server) merchantGenerateCodes(ctx context.Context, in *generateCodesInput) (*body[benefits.CodeBatch], error) {
	return withDistribution(s, func(d *distribution.Service) (benefits.CodeBatch, error) {
		return d.GenerateCodes(ctx, scopeOf(ctx), in.ID, in.Body.Count, actor(ctx))
	})
}

type batchesOutput struct {
	Body struct {
		Batches []distribution.Batch `json:"batches"`
	}
}

func (s *Server) merchantCodeBatches(ctx context.Context, in *benefitIDPath) (*batchesOutput, error) {
	bs, err := s.deps.Distribution.CodeBatches(ctx, scopeOf(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	out := &batchesOutput{}
	out.Body.Batches = append([]distribution.Batch{}, bs...)
	return out, nil
}

func (s *Server) merchantExportCodes(ctx context.Context, in *benefitIDPath) (*csvOutput, error) {
	rows := [][]string{{"code", "redeemed_by", "redeemed_at", "ticket_id"}}
	err := s.deps.Distribution.Codes(ctx, scopeOf(ctx), in.ID, func(r benefits.CodeRow) error {
		rows = append(rows, codeRow(r))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return csvFile(fmt.Sprintf("code-batch-%d.csv", in.ID), rows)
}

// codeRow is one code as the CSV export shows it.
func codeRow(r benefits.CodeRow) []string {
	row := []string{benefits.DisplayCode(r.Code), "", "", ""}
	if r.TicketID != 0 {
		row[1], row[2], row[3] = strconv.FormatInt(r.RedeemedBy, 10), r.RedeemedAt.In(benefits.Shanghai).Format(time.RFC3339), strconv.FormatInt(r.TicketID, 10)
	}
	return row
}

// codeRevocation is what voiding a batch did.
type codeRevocation struct {
	Batch  distribution.Batch `json:"batch"`
	Voided int                `json:"voided" doc:"Codes voided now"`
}

func (s *Server) revokeCodes(ctx context.Context, in *revokeInput) (*body[codeRevocation], error) {
	return withDistribution(s, func(d *distribution.Service) (codeRevocation, error) {
		b, n, err := d.RevokeCodes(ctx, scopeOf(ctx), in.ID, actor(ctx), in.reason())
		return codeRevocation{Batch: b, Voided: n}, err
	})
}

// claimLinkView is where passengers claim a campaign.
type claimLinkView struct {
	CampaignID int64  `json:"campaign_id"`
	URL        string `json:"url" doc:"The H5 claim page, absolute"`
	PosterURL  string `json:"poster_url" doc:"The QR code poster of the URL (needs the merchant's credentials)"`
}

// claimURL is the absolute claim link of a campaign of the caller.
func (s *Server) claimURL(ctx context.Context, id int64) (string, error) {
	if _, err := s.deps.Distribution.ClaimCampaign(ctx, scopeOf(ctx), id); err != nil {
		return "", err
	}
	if s.deps.PublicURL == "" {
		return "", fault.New(fault.Unavailable, "no_public_url", "未配置服务的公开地址，无法生成链接", "the server's public URL is not configured: links cannot be made")
	}
	return strings.TrimSuffix(s.deps.PublicURL, "/") + distribution.ClaimPath(id), nil
}

func (s *Server) claimLink(ctx context.Context, in *benefitIDPath) (*body[claimLinkView], error) {
	u, err := s.claimURL(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &body[claimLinkView]{Body: claimLinkView{CampaignID: in.ID, URL: u, PosterURL: fmt.Sprintf("/api/v1/merchant/campaigns/%d/poster.png", in.ID)}}, nil
}

type pngOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

// PosterSize is the side of a claim poster's QR code image, in pixels.
const PosterSize = 512

func (s *Server) claimPoster(ctx context.Context, in *benefitIDPath) (*pngOutput, error) {
	u, err := s.claimURL(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	png, err := qrcode.Encode(u, qrcode.Medium, PosterSize)
	if err != nil {
		return nil, fault.Wrap(err, "encode poster")
	}
	return &pngOutput{ContentType: "image/png", ContentDisposition: fmt.Sprintf(`inline; filename="campaign-%d-poster.png"`, in.ID), Body: png}, nil
}
