package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"piao/internal/abuse"
	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/sheet"
	"piao/internal/tenant"
)

// operatorOwner owns the products and campaigns operator staff define.
// Merchants (SPEC B2) will own theirs as merchant:ID.
const operatorOwner = "operator"

// benefitsRoutes registers value-added tickets (V1–V6).
func (s *Server) benefitsRoutes() {
	g := s.group(s.deps.Benefits != nil, benefits.ErrNotRunning)
	const tag = "benefits"
	add(g, identity.BenefitsEdit, op("POST", "/api/v1/benefit-products", "createBenefitProduct", tag, "Define a product: an e-coupon (amount off, fixed price, percentage) or a count ticket (single, multi-ride, paper QR)", "定义电子优惠券或计次票产品"), s.createProduct)
	add(g, identity.BenefitsRead, op("GET", "/api/v1/benefit-products", "listBenefitProducts", tag, "List products, newest first", ""), s.listProducts)
	add(g, identity.BenefitsRead, op("GET", "/api/v1/benefit-products/{id}", "getBenefitProduct", tag, "Get a product", ""), s.getProduct)
	add(g, identity.BenefitsEdit, op("POST", "/api/v1/campaigns", "createCampaign", tag, "Create a draft campaign distributing one product", "创建活动草稿"), s.createCampaign)
	add(g, identity.BenefitsRead, op("GET", "/api/v1/campaigns", "listCampaigns", tag, "List campaigns, newest first", ""), s.listCampaigns)
	add(g, identity.Public, op("GET", "/api/v1/campaigns/open", "listOpenCampaigns", tag, "Campaigns a passenger can claim from now", "可领取的活动"), s.listOpenCampaigns)
	add(g, identity.BenefitsRead, op("GET", "/api/v1/campaigns/{id}", "getCampaign", tag, "A campaign with its product and audit trail", ""), s.getCampaign)
	for _, a := range []struct {
		action benefits.Action
		perm   identity.Permission
		zh     string
	}{
		{benefits.Submit, identity.BenefitsEdit, "提交审核"},
		{benefits.Approve, identity.BenefitsReview, "审核通过（不能审批自己创建的活动）"},
		{benefits.Reject, identity.BenefitsReview, "驳回，须说明原因"},
		{benefits.Pause, identity.BenefitsReview, "暂停，立即生效，须说明原因"},
		{benefits.Resume, identity.BenefitsReview, "恢复"},
		{benefits.Terminate, identity.BenefitsReview, "终止，立即生效，须说明原因；已发放未使用的券不再可用"},
	} {
		action := a.action
		add(g, a.perm, op("POST", "/api/v1/campaigns/{id}/"+string(action), string(action)+"Campaign", tag, "Campaign: "+string(action), a.zh),
			func(ctx context.Context, in *campaignActionInput) (*campaignOutput, error) {
				return s.actCampaign(ctx, in, action)
			})
	}
	add(g, identity.BenefitsRead, op("GET", "/api/v1/campaigns/{id}/stats", "getCampaignStats", tag, "A campaign's numbers: issued, claimed, used, expired, conversion, hourly", "活动统计：发放、领取、核销、过期、转化率"), s.campaignStats)
	add(g, identity.BenefitsRead, op("GET", "/api/v1/campaigns/{id}/stats.csv", "exportCampaignStats", tag, "A campaign's hourly numbers as CSV or XLSX (?format=)", "导出活动统计 CSV 或 XLSX"), s.campaignStatsCSV)
	add(g, identity.BenefitsEdit, op("POST", "/api/v1/campaigns/{id}/codes", "generateRedeemCodes", tag, "Generate a batch of up to 100,000 single-use redemption codes", "批量生成兑换码"), s.generateCodes)
	add(g, identity.BenefitsRead, op("GET", "/api/v1/campaigns/{id}/code-batches", "listCodeBatches", tag, "A campaign's code batches", ""), s.listCodeBatches)
	add(g, identity.BenefitsEdit, op("GET", "/api/v1/code-batches/{id}/codes.csv", "exportRedeemCodes", tag, "Export a batch of codes as CSV", "导出兑换码 CSV"), s.exportCodes)
	add(g, identity.BenefitsEdit, op("POST", "/api/v1/campaigns/{id}/issue", "issueDirect", tag, "Issue one ticket to each account listed", "定向发放"), s.issueDirect)

	add(g.limited(abuse.Claim), identity.WalletOwn, op("POST", "/api/v1/campaigns/{id}/claim", "claimTicket", tag, "Claim one ticket of a running campaign", "领取"), s.claim)
	add(g.limited(abuse.Redeem), identity.WalletOwn, op("POST", "/api/v1/redeem-codes", "redeemCode", tag, "Redeem a code for a ticket (case, hyphens and O/0, I/L/1 confusions forgiven)", "兑换码兑换"), s.redeemCode)
	add(g, identity.WalletOwn, op("GET", "/api/v1/wallet", "getWallet", tag, "The caller's tickets with status, validity, rides left and instructions", "我的卡券"), s.wallet)
	add(g.limited(abuse.Gift), identity.WalletOwn, op("POST", "/api/v1/wallet/{id}/gift", "giftTicket", tag, "Offer an unused ticket as a gift; the answer's token goes in the link", "转赠：生成领取链接或口令"), s.gift)
	add(g, identity.WalletOwn, op("GET", "/api/v1/gifts", "listGifts", tag, "Gifts the caller gave or received", ""), s.listGifts)
	add(g.limited(abuse.Gift), identity.WalletOwn, op("GET", "/api/v1/gifts/{token}", "getGift", tag, "A gift by its token, with the ticket's product and cover", "查看赠送"), s.getGift)
	for _, st := range []struct {
		path  string
		state benefits.GiftState
		zh    string
	}{{"accept", benefits.GiftAccepted, "接受赠送"}, {"decline", benefits.GiftDeclined, "拒绝赠送，票券退回"}, {"cancel", benefits.GiftCancelled, "赠送人撤回"}} {
		state := st.state
		add(g.limited(abuse.Gift), identity.WalletOwn, op("POST", "/api/v1/gifts/{token}/"+st.path, st.path+"Gift", tag, "Gift: "+st.path, st.zh),
			func(ctx context.Context, in *giftTokenPath) (*body[benefits.Gift], error) {
				return s.settleGift(ctx, in, state)
			})
	}
	add(g, identity.BenefitsSettle, op("POST", "/api/v1/rides/{id}/redemption", "redeemRide", tag, "Apply the best allowed benefits of the rider a verified ride code names to a ride, once per ride ID (docs/STACKING.md)", "按乘车码验签确定乘客并按叠加规则核销优惠，同一行程只核销一次；乘客类别只取自已核验的登记"), s.redeemRide)
	add(g, identity.BenefitsSettle, op("GET", "/api/v1/rides/{id}/redemption", "getRideRedemption", tag, "The benefits applied to a ride", ""), s.getRedemption)
}

// body is a response of one JSON body.
type body[T any] struct{ Body T }

// withBenefits runs fn on the benefits service and answers with what fn
// returns.
func withBenefits[T any](s *Server, fn func(*benefits.Service) (T, error)) (*body[T], error) {
	v, err := fn(s.deps.Benefits)
	if err != nil {
		return nil, err
	}
	return &body[T]{Body: v}, nil
}

// productRequest is what a caller sets of a product; the rest is the server's.
type productRequest struct {
	Kind           benefits.Kind     `json:"kind" enum:"amount_off,fixed_price,percentage,single_ride,multi_ride,paper_qr"`
	NameZH         string            `json:"name_zh,omitempty" maxLength:"60"`
	NameEN         string            `json:"name_en,omitempty" maxLength:"120"`
	Feed           string            `json:"feed" maxLength:"64" doc:"The metro network, e.g. nbmetro"`
	Terms          benefits.Terms    `json:"terms,omitempty" required:"false"`
	Scope          benefits.Scope    `json:"scope,omitempty" required:"false"`
	Validity       benefits.Validity `json:"validity" doc:"until (YYYY-MM-DD, inclusive, local time) with an optional from, or days from claim (claim day = day 1)"`
	Cover          benefits.Cover    `json:"cover,omitempty" required:"false"`
	InstructionsZH string            `json:"instructions_zh,omitempty" maxLength:"500"`
	InstructionsEN string            `json:"instructions_en,omitempty" maxLength:"1000"`
}

type productInput struct{ Body productRequest }

func (s *Server) createProduct(ctx context.Context, in *productInput) (*body[benefits.Product], error) {
	b := in.Body
	return withBenefits(s, func(svc *benefits.Service) (benefits.Product, error) {
		return svc.CreateProduct(ctx, scopeOf(ctx), benefits.Product{Kind: b.Kind, NameZH: b.NameZH, NameEN: b.NameEN, Feed: b.Feed,
			Terms: b.Terms, Scope: b.Scope, Valid: b.Validity, Cover: b.Cover, InstructionsZH: b.InstructionsZH, InstructionsEN: b.InstructionsEN}, operatorOwner, actor(ctx))
	})
}

type productsOutput struct {
	Body struct {
		Products []benefits.Product `json:"products"`
	}
}

func (s *Server) listProducts(ctx context.Context, _ *struct{}) (*productsOutput, error) {
	ps, err := s.deps.Benefits.Products(ctx, scopeOf(ctx), "")
	if err != nil {
		return nil, err
	}
	out := &productsOutput{}
	out.Body.Products = append([]benefits.Product{}, ps...)
	return out, nil
}

type benefitIDPath struct {
	ID int64 `path:"id" minimum:"1"`
}

func (s *Server) getProduct(ctx context.Context, in *benefitIDPath) (*body[benefits.Product], error) {
	return withBenefits(s, func(svc *benefits.Service) (benefits.Product, error) { return svc.Product(ctx, scopeOf(ctx), in.ID) })
}

// campaignRequest is what a caller sets of a campaign.
type campaignRequest struct {
	ProductID   int64              `json:"product_id" minimum:"1"`
	NameZH      string             `json:"name_zh,omitempty" maxLength:"60"`
	NameEN      string             `json:"name_en,omitempty" maxLength:"120"`
	Starts      time.Time          `json:"starts" doc:"When issuing starts"`
	Ends        time.Time          `json:"ends" doc:"When issuing ends (exclusive)"`
	Channels    []benefits.Channel `json:"channels" minItems:"1" doc:"claim, code, direct"`
	Stock       int                `json:"stock" minimum:"1" maximum:"10000000"`
	PerUser     int                `json:"per_user,omitempty" minimum:"0" doc:"Tickets per account (0: no cap)"`
	BudgetUses  int                `json:"budget_uses,omitempty" minimum:"0" doc:"Rides its tickets may pay in all (0: no cap)"`
	BudgetValue int64              `json:"budget_value,omitempty" minimum:"0" doc:"Fen its tickets may save in all (0: no cap)"`
}

type campaignInput struct{ Body campaignRequest }

// campaignView is a campaign with its effective status, product and trail.
type campaignView struct {
	Campaign  benefits.Campaign `json:"campaign"`
	Effective benefits.Status   `json:"effective_status"`
	Product   benefits.Product  `json:"product"`
	Events    []benefits.Event  `json:"events,omitempty"`
}

type campaignOutput struct{ Body campaignView }

// campaignView shows c as the scope sees it.
func (s *Server) campaignView(ctx context.Context, scope tenant.Scope, c benefits.Campaign, events bool) (campaignView, error) {
	st := s.deps.Benefits
	p, err := st.Product(ctx, scope, c.ProductID)
	if err != nil {
		return campaignView{}, err
	}
	v := campaignView{Campaign: c, Effective: c.Effective(s.deps.Benefits.Now()), Product: p}
	if events {
		if v.Events, err = st.Events(ctx, scope, c.ID); err != nil {
			return campaignView{}, err
		}
	}
	return v, nil
}

func (s *Server) createCampaign(ctx context.Context, in *campaignInput) (*campaignOutput, error) {
	b := in.Body
	c, err := s.deps.Benefits.CreateCampaign(ctx, scopeOf(ctx), benefits.Campaign{ProductID: b.ProductID, NameZH: b.NameZH, NameEN: b.NameEN,
		Starts: b.Starts, Ends: b.Ends, Channels: b.Channels, Stock: b.Stock, PerUser: b.PerUser, BudgetUses: b.BudgetUses, BudgetValue: b.BudgetValue}, operatorOwner, actor(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.campaignView(ctx, scopeOf(ctx), c, true)
	if err != nil {
		return nil, err
	}
	return &campaignOutput{Body: v}, nil
}

type campaignsInput struct {
	Status string `query:"status" enum:"draft,submitted,approved,rejected,active,paused,terminated,ended" doc:"Keep campaigns with this stored status (approved covers active and ended ones)"`
	Limit  int    `query:"limit" minimum:"0" maximum:"1000"`
	Offset int    `query:"offset" minimum:"0"`
}

type campaignsOutput struct {
	Body struct {
		Campaigns []campaignView `json:"campaigns"`
	}
}

func (s *Server) listCampaigns(ctx context.Context, in *campaignsInput) (*campaignsOutput, error) {
	f := benefits.CampaignFilter{Limit: in.Limit, Offset: in.Offset}
	if in.Status != "" {
		f.Statuses = []benefits.Status{benefits.Status(in.Status)}
	}
	return s.campaignList(ctx, scopeOf(ctx), f, nil)
}

// campaignList lists the campaigns the scope sees that keep admits.
func (s *Server) campaignList(ctx context.Context, scope tenant.Scope, f benefits.CampaignFilter, keep func(campaignView) bool) (*campaignsOutput, error) {
	cs, err := s.deps.Benefits.Campaigns(ctx, scope, f)
	if err != nil {
		return nil, err
	}
	out := &campaignsOutput{}
	out.Body.Campaigns = []campaignView{}
	for _, c := range cs {
		v, err := s.campaignView(ctx, scope, c, false)
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(v) {
			out.Body.Campaigns = append(out.Body.Campaigns, v)
		}
	}
	return out, nil
}

func (s *Server) listOpenCampaigns(ctx context.Context, _ *struct{}) (*campaignsOutput, error) {
	// Riders see every merchant's open campaigns.
	return s.campaignList(ctx, tenant.All(), benefits.CampaignFilter{Statuses: []benefits.Status{benefits.Approved}, Limit: 1000}, func(v campaignView) bool {
		if v.Effective != benefits.Active || v.Campaign.Issued >= v.Campaign.Stock {
			return false
		}
		for _, ch := range v.Campaign.Channels {
			if ch == benefits.ClaimChannel {
				return true
			}
		}
		return false
	})
}

func (s *Server) getCampaign(ctx context.Context, in *benefitIDPath) (*campaignOutput, error) {
	c, err := s.deps.Benefits.Campaign(ctx, scopeOf(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	v, err := s.campaignView(ctx, scopeOf(ctx), c, true)
	if err != nil {
		return nil, err
	}
	return &campaignOutput{Body: v}, nil
}

type campaignActionInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Reason string `json:"reason,omitempty" maxLength:"500" doc:"Why (required to reject, pause or terminate)"`
	}
}

func (s *Server) actCampaign(ctx context.Context, in *campaignActionInput, a benefits.Action) (*campaignOutput, error) {
	c, err := s.deps.Benefits.Act(ctx, scopeOf(ctx), in.ID, a, actor(ctx), in.Body.Reason)
	if err != nil {
		return nil, err
	}
	v, err := s.campaignView(ctx, scopeOf(ctx), c, true)
	if err != nil {
		return nil, err
	}
	return &campaignOutput{Body: v}, nil
}

func (s *Server) campaignStats(ctx context.Context, in *benefitIDPath) (*body[benefits.Stats], error) {
	return withBenefits(s, func(svc *benefits.Service) (benefits.Stats, error) { return svc.Stats(ctx, scopeOf(ctx), in.ID) })
}

type csvOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func csvFile(name string, rows [][]string) (*csvOutput, error) {
	var b bytes.Buffer
	b.WriteString("\ufeff") // a byte-order mark so spreadsheet programs read UTF-8
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		return nil, fault.Wrap(err, "write csv")
	}
	return &csvOutput{ContentType: "text/csv; charset=utf-8", ContentDisposition: `attachment; filename="` + name + `"`, Body: b.Bytes()}, nil
}

// statsExportInput is a campaign's statistics export: CSV (the default)
// or XLSX, through internal/sheet.
type statsExportInput struct {
	ID     int64  `path:"id" minimum:"1"`
	Format string `query:"format" enum:"csv,xlsx" default:"csv" doc:"csv (UTF-8 with a byte order mark) or xlsx"`
}

func (s *Server) campaignStatsCSV(ctx context.Context, in *statsExportInput) (*csvOutput, error) {
	f, err := sheet.ParseFormat(in.Format)
	if err != nil {
		return nil, err
	}
	st, err := s.deps.Benefits.Stats(ctx, scopeOf(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	t := sheet.Table{Name: "stats", Header: []string{"hour", "issued", "rides"}}
	for _, h := range st.Hourly {
		t.Add(h.Hour.In(benefits.Shanghai).Format(time.RFC3339), h.Issued, h.Rides)
	}
	t.Add("total", st.Issued, st.Rides)
	var b bytes.Buffer
	if err := sheet.Write(&b, f, t); err != nil {
		return nil, err
	}
	return &csvOutput{ContentType: f.ContentType(), ContentDisposition: `attachment; filename="` + f.FileName(fmt.Sprintf("campaign-%d-stats", in.ID)) + `"`, Body: b.Bytes()}, nil
}

type generateCodesInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Count int `json:"count" minimum:"1" maximum:"100000" doc:"How many codes"`
	}
}

func (s *Server) generateCodes(ctx context.Context, in *generateCodesInput) (*body[benefits.CodeBatch], error) {
	return withBenefits(s, func(svc *benefits.Service) (benefits.CodeBatch, error) {
		return svc.GenerateCodes(ctx, scopeOf(ctx), in.ID, in.Body.Count, actor(ctx))
	})
}

type codeBatchesOutput struct {
	Body struct {
		Batches []benefits.CodeBatch `json:"batches"`
	}
}

func (s *Server) listCodeBatches(ctx context.Context, in *benefitIDPath) (*codeBatchesOutput, error) {
	bs, err := s.deps.Benefits.CodeBatches(ctx, scopeOf(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	out := &codeBatchesOutput{}
	out.Body.Batches = append([]benefits.CodeBatch{}, bs...)
	return out, nil
}

func (s *Server) exportCodes(ctx context.Context, in *benefitIDPath) (*csvOutput, error) {
	rows := [][]string{{"code", "redeemed_by", "redeemed_at", "ticket_id"}}
	err := s.deps.Benefits.Codes(ctx, scopeOf(ctx), in.ID, func(r benefits.CodeRow) error {
		row := []string{benefits.DisplayCode(r.Code), "", "", ""}
		if r.TicketID != 0 {
			row[1], row[2], row[3] = strconv.FormatInt(r.RedeemedBy, 10), r.RedeemedAt.In(benefits.Shanghai).Format(time.RFC3339), strconv.FormatInt(r.TicketID, 10)
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return csvFile(fmt.Sprintf("code-batch-%d.csv", in.ID), rows)
}

type issueDirectInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Accounts []int64 `json:"accounts" minItems:"1" maxItems:"10000" doc:"Account IDs, one ticket each"`
	}
}

type issueOutcome struct {
	Account  int64  `json:"account"`
	TicketID int64  `json:"ticket_id,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message,omitempty"`
}

type issueDirectOutput struct {
	Body struct {
		Issued   int            `json:"issued"`
		Refused  int            `json:"refused"`
		Outcomes []issueOutcome `json:"outcomes"`
	}
}

func (s *Server) issueDirect(ctx context.Context, in *issueDirectInput) (*issueDirectOutput, error) {
	res, err := s.deps.Benefits.IssueDirect(ctx, scopeOf(ctx), in.ID, in.Body.Accounts)
	if err != nil {
		return nil, err
	}
	out := &issueDirectOutput{}
	out.Body.Outcomes = make([]issueOutcome, len(res))
	for i, r := range res {
		o := issueOutcome{Account: in.Body.Accounts[i], TicketID: r.Ticket.ID}
		if r.Err != nil {
			fe := fault.As(r.Err)
			o.TicketID, o.Reason, o.Message = 0, fe.Reason, fe.ZH+" / "+fe.EN
			out.Body.Refused++
		} else {
			out.Body.Issued++
		}
		out.Body.Outcomes[i] = o
	}
	return out, nil
}

func (s *Server) claim(ctx context.Context, in *benefitIDPath) (*body[benefits.Ticket], error) {
	return withBenefits(s, func(svc *benefits.Service) (benefits.Ticket, error) {
		return svc.Claim(ctx, in.ID, PrincipalFrom(ctx).Account.ID)
	})
}

type redeemCodeInput struct {
	Body struct {
		Code string `json:"code" minLength:"1" maxLength:"64" doc:"The code as printed, e.g. 7K2QM-X9D4A-P3HVR"`
	}
}

func (s *Server) redeemCode(ctx context.Context, in *redeemCodeInput) (*body[benefits.Ticket], error) {
	return withBenefits(s, func(svc *benefits.Service) (benefits.Ticket, error) {
		return svc.RedeemCode(ctx, in.Body.Code, PrincipalFrom(ctx).Account.ID)
	})
}

type walletOutput struct {
	Body struct {
		Tickets []benefits.WalletEntry `json:"tickets"`
	}
}

func (s *Server) wallet(ctx context.Context, _ *struct{}) (*walletOutput, error) {
	w, err := s.deps.Benefits.Wallet(ctx, PrincipalFrom(ctx).Account.ID)
	if err != nil {
		return nil, err
	}
	out := &walletOutput{}
	out.Body.Tickets = append([]benefits.WalletEntry{}, w...)
	return out, nil
}

type giftInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Ticket ID"`
	Body struct {
		Cover   benefits.Cover `json:"cover,omitempty"`
		Message string         `json:"message,omitempty" maxLength:"200"`
	}
}

func (s *Server) gift(ctx context.Context, in *giftInput) (*body[benefits.Gift], error) {
	return withBenefits(s, func(svc *benefits.Service) (benefits.Gift, error) {
		return svc.Gift(ctx, in.ID, PrincipalFrom(ctx).Account.ID, in.Body.Cover, in.Body.Message)
	})
}

type giftsOutput struct {
	Body struct {
		Gifts []benefits.Gift `json:"gifts"`
	}
}

func (s *Server) listGifts(ctx context.Context, _ *struct{}) (*giftsOutput, error) {
	me := PrincipalFrom(ctx).Account.ID
	gs, err := s.deps.Benefits.Gifts(ctx, me)
	if err != nil {
		return nil, err
	}
	out := &giftsOutput{}
	out.Body.Gifts = []benefits.Gift{}
	for _, g := range gs {
		if g.Giver != me {
			g.Token = "" // the receiver has used it; only the giver needs it again
		}
		out.Body.Gifts = append(out.Body.Gifts, g)
	}
	return out, nil
}

type giftTokenPath struct {
	Token string `path:"token" minLength:"1" maxLength:"64"`
}

type giftViewOutput struct {
	Body struct {
		benefits.Gift
		Product benefits.Product `json:"product"`
		Ticket  benefits.Ticket  `json:"ticket"`
	}
}

func (s *Server) getGift(ctx context.Context, in *giftTokenPath) (*giftViewOutput, error) {
	v, err := s.deps.Benefits.GiftView(ctx, in.Token)
	if err != nil {
		return nil, err
	}
	out := &giftViewOutput{}
	out.Body.Gift, out.Body.Product, out.Body.Ticket = v.Gift, v.Product, v.Ticket
	return out, nil
}

func (s *Server) settleGift(ctx context.Context, in *giftTokenPath, state benefits.GiftState) (*body[benefits.Gift], error) {
	return withBenefits(s, func(svc *benefits.Service) (benefits.Gift, error) {
		return svc.SettleGift(ctx, in.Token, PrincipalFrom(ctx).Account.ID, state)
	})
}

type redeemRideInput struct {
	ID   string `path:"id" minLength:"1" maxLength:"128" doc:"The ride (trip) ID: redemption happens once per ID"`
	Body struct {
		Code      string    `json:"code" minLength:"1" maxLength:"256" doc:"The rider's ride code (乘车码) as the gate scanned it (docs/RIDECODES.md). It alone names the rider: the account, the network and, for count and paper tickets, the ticket come from its claims once its signature verifies against a configured issuer key; a ride or count code pays for one ride ID only"`
		From      string    `json:"from" minLength:"1" maxLength:"64" doc:"Station entered"`
		To        string    `json:"to" minLength:"1" maxLength:"64" doc:"Station left"`
		FromLine  string    `json:"from_line,omitempty" maxLength:"64"`
		ToLine    string    `json:"to_line,omitempty" maxLength:"64"`
		Fare      int64     `json:"fare" minimum:"0" maximum:"100000" doc:"Fare in fen before benefits"`
		EnteredAt time.Time `json:"entered_at" doc:"Entry time: within the trip limit (4 h) before now; the rider categories verified enrolments give at this time apply"`
	}
}

type redemptionOutput struct {
	Replayed bool `header:"Redemption-Replayed" doc:"true when this ride was settled before and the first result is returned"`
	Body     benefits.Redemption
}

func (s *Server) redeemRide(ctx context.Context, in *redeemRideInput) (*redemptionOutput, error) {
	b := in.Body
	g := benefits.GateRide{ID: in.ID, Code: b.Code, From: b.From, To: b.To, FromLine: b.FromLine, ToLine: b.ToLine, Fare: b.Fare, EnteredAt: b.EnteredAt}
	red, replayed, err := s.deps.Benefits.RedeemAtGate(ctx, g)
	if err != nil {
		return nil, err
	}
	return &redemptionOutput{Replayed: replayed, Body: red}, nil
}

func (s *Server) getRedemption(ctx context.Context, in *struct {
	ID string `path:"id" minLength:"1" maxLength:"128"`
}) (*redemptionOutput, error) {
	red, err := s.deps.Benefits.Redemption(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &redemptionOutput{Body: red}, nil
}
