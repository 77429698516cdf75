package httpapi

import (
	"context"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/tenant"
	"piao/internal/upload"
)

// merchantCampaignRoutes are the operator's templates and a merchant's own
// products, covers, campaigns, their numbers and charges (SPEC B2). The
// merchant routes work on the caller's merchant (the principal's scope):
// another merchant's IDs are not found. Operators review merchant
// campaigns through the campaign routes (benefitsRoutes).
func (s *Server) merchantCampaignRoutes() {
	g := s.group(s.deps.Benefits != nil, benefits.ErrNotRunning)
	const tag = "merchant-campaigns"
	add(g, identity.BenefitsEdit, op("POST", "/api/v1/benefit-templates", "createBenefitTemplate", tag, "Offer merchants a template: a kind of product, its price per ticket and bounds on its terms", "新建商户可用的产品模板（票种、单价、条款上限）"), s.createTemplate)
	add(g, identity.BenefitsRead, op("GET", "/api/v1/benefit-templates", "listBenefitTemplates", tag, "List templates, newest first", "模板列表"), s.listTemplates)
	add(g, identity.BenefitsEdit, op("POST", "/api/v1/benefit-templates/{id}/deactivate", "deactivateBenefitTemplate", tag, "Stop offering a template (products made from it stay)", "停用模板"), s.deactivateTemplate)
	add(g, identity.Public, op("GET", "/api/v1/benefit-products/{id}/cover", "getBenefitProductCover", tag, "A product's brand image, for the H5 pages", "产品封面图片"), s.productCover)
	add(g, identity.MerchantsRead, op("GET", "/api/v1/merchants/{id}/charges", "listMerchantChargesForOperator", tag, "What a merchant's campaigns saved riders in a period: the merchant's charges", "商户在某时段应承担的优惠金额"), s.operatorCharges)

	add(g, identity.MerchantCampaigns, op("GET", "/api/v1/merchant/templates", "listMerchantTemplates", tag, "Templates the operator offers now", "可用的产品模板"), s.merchantTemplates)
	add(g, identity.MerchantCampaigns, op("POST", "/api/v1/merchant/products", "createMerchantProduct", tag, "Define a product from a template: its kind from the template, its terms within the template's bounds", "按模板定义产品"), s.createMerchantProduct)
	add(g, identity.MerchantCampaigns, op("GET", "/api/v1/merchant/products", "listMerchantProducts", tag, "The merchant's products, newest first", "本商户的产品"), s.listProducts)
	add(g, identity.MerchantCampaigns, op("GET", "/api/v1/merchant/products/{id}", "getMerchantProduct", tag, "One of the merchant's products", ""), s.getProduct)
	add(g, identity.MerchantCampaigns, op("PUT", "/api/v1/merchant/products/{id}/cover", "putMerchantProductCover", tag, "Upload the product's brand image: PNG or JPEG, at most 1 MiB, the body being the file", "上传产品封面（PNG/JPEG，不超过 1 MiB）"), s.putProductCover)
	add(g, identity.MerchantCampaigns, op("POST", "/api/v1/merchant/campaigns", "createMerchantCampaign", tag, "Create a draft prepaid campaign of one of the merchant's products: stock and budget come from purchases", "创建预付活动草稿（库存与预算来自购买）"), s.createMerchantCampaign)
	add(g, identity.MerchantCampaigns, op("GET", "/api/v1/merchant/campaigns", "listMerchantCampaigns", tag, "The merchant's campaigns, newest first", "本商户的活动"), s.listCampaigns)
	add(g, identity.MerchantCampaigns, op("GET", "/api/v1/merchant/campaigns/{id}", "getMerchantCampaign", tag, "One of the merchant's campaigns with its product and audit trail", ""), s.getCampaign)
	add(g, identity.MerchantCampaigns, op("POST", "/api/v1/merchant/campaigns/{id}/submit", "submitMerchantCampaign", tag, "Submit a campaign for the operator's review (it needs stock bought)", "提交运营方审核（须已购买库存）"),
		func(ctx context.Context, in *campaignActionInput) (*campaignOutput, error) {
			return s.actCampaign(ctx, in, benefits.Submit)
		})
	add(g, identity.MerchantReports, op("GET", "/api/v1/merchant/campaigns/{id}/stats", "getMerchantCampaignStats", tag, "A campaign's numbers: issued, claimed, used, expired, conversion, hourly", "活动统计"), s.campaignStats)
	add(g, identity.MerchantReports, op("GET", "/api/v1/merchant/campaigns/{id}/stats.csv", "exportMerchantCampaignStats", tag, "A campaign's hourly numbers as CSV or XLSX (?format=)", "导出活动统计 CSV 或 XLSX"), s.campaignStatsCSV)
	add(g, identity.MerchantFinance, op("GET", "/api/v1/merchant/charges", "listMerchantCharges", tag, "What the merchant's campaigns saved riders in a period: the merchant's charges, per campaign", "本商户在某时段应承担的优惠金额"), s.merchantCharges)
}

type templateRequest struct {
	Kind          benefits.Kind `json:"kind" enum:"amount_off,fixed_price,percentage,single_ride,multi_ride,paper_qr"`
	NameZH        string        `json:"name_zh,omitempty" maxLength:"60"`
	NameEN        string        `json:"name_en,omitempty" maxLength:"120"`
	UnitPrice     int64         `json:"unit_price" minimum:"0" maximum:"100000" doc:"Fen a merchant prepays per ticket (count tickets: per ride held); 0: value-priced, the merchant buys a value budget"`
	MaxAmountOff  int64         `json:"max_amount_off,omitempty" minimum:"0" doc:"amount_off: at most this many fen off (0: no bound)"`
	MinFixedPrice int64         `json:"min_fixed_price,omitempty" minimum:"0" doc:"fixed_price: the ride costs at least this (0: no bound)"`
	MaxPercentOff int           `json:"max_percent_off,omitempty" minimum:"0" maximum:"100" doc:"percentage: at most this % off (0: no bound)"`
	MaxCap        int64         `json:"max_cap,omitempty" minimum:"0" doc:"percentage: a cap is required, at most this many fen (0: no bound)"`
	MaxRides      int           `json:"max_rides,omitempty" minimum:"0" doc:"multi_ride, paper_qr: at most this many rides (0: no bound)"`
	DescriptionZH string        `json:"description_zh,omitempty" maxLength:"500"`
	DescriptionEN string        `json:"description_en,omitempty" maxLength:"1000"`
}

func (s *Server) createTemplate(ctx context.Context, in *struct{ Body templateRequest }) (*body[benefits.Template], error) {
	b := in.Body
	return withBenefits(s, func(svc *benefits.Service) (benefits.Template, error) {
		return svc.CreateTemplate(ctx, benefits.Template{Kind: b.Kind, NameZH: b.NameZH, NameEN: b.NameEN, UnitPrice: b.UnitPrice,
			MaxAmountOff: b.MaxAmountOff, MinFixedPrice: b.MinFixedPrice, MaxPercentOff: b.MaxPercentOff, MaxCap: b.MaxCap, MaxRides: b.MaxRides,
			DescriptionZH: b.DescriptionZH, DescriptionEN: b.DescriptionEN}, actor(ctx))
	})
}

type templatesOutput struct {
	Body struct {
		Templates []benefits.Template `json:"templates"`
	}
}

func (s *Server) templates(ctx context.Context, activeOnly bool) (*templatesOutput, error) {
	ts, err := s.deps.Benefits.Templates(ctx, activeOnly)
	if err != nil {
		return nil, err
	}
	out := &templatesOutput{}
	out.Body.Templates = append([]benefits.Template{}, ts...)
	return out, nil
}

func (s *Server) listTemplates(ctx context.Context, _ *struct{}) (*templatesOutput, error) {
	return s.templates(ctx, false)
}

func (s *Server) merchantTemplates(ctx context.Context, _ *struct{}) (*templatesOutput, error) {
	return s.templates(ctx, true)
}

func (s *Server) deactivateTemplate(ctx context.Context, in *benefitIDPath) (*body[benefits.Template], error) {
	return withBenefits(s, func(svc *benefits.Service) (benefits.Template, error) {
		return svc.DeactivateTemplate(ctx, in.ID, actor(ctx))
	})
}

// merchantProductRequest is what a merchant sets of a product; the kind
// and price come from the template.
type merchantProductRequest struct {
	TemplateID     int64             `json:"template_id" minimum:"1"`
	NameZH         string            `json:"name_zh,omitempty" maxLength:"60"`
	NameEN         string            `json:"name_en,omitempty" maxLength:"120"`
	Feed           string            `json:"feed" maxLength:"64" doc:"The metro network, e.g. nbmetro"`
	Terms          benefits.Terms    `json:"terms,omitempty" required:"false"`
	Scope          benefits.Scope    `json:"scope,omitempty" required:"false" doc:"Lines, stations, a section (from → to), weekdays, dates, hours; empty parts do not restrict"`
	Validity       benefits.Validity `json:"validity" doc:"until (YYYY-MM-DD, inclusive, local time) with an optional from, or days from claim (claim day = day 1)"`
	Cover          benefits.Cover    `json:"cover,omitempty" required:"false"`
	InstructionsZH string            `json:"instructions_zh,omitempty" maxLength:"500"`
	InstructionsEN string            `json:"instructions_en,omitempty" maxLength:"1000"`
}

func (s *Server) createMerchantProduct(ctx context.Context, in *struct{ Body merchantProductRequest }) (*body[benefits.Product], error) {
	b := in.Body
	return withBenefits(s, func(svc *benefits.Service) (benefits.Product, error) {
		return svc.CreateMerchantProduct(ctx, scopeOf(ctx), b.TemplateID, benefits.Product{NameZH: b.NameZH, NameEN: b.NameEN, Feed: b.Feed,
			Terms: b.Terms, Scope: b.Scope, Valid: b.Validity, Cover: b.Cover, InstructionsZH: b.InstructionsZH, InstructionsEN: b.InstructionsEN}, actor(ctx))
	})
}

type coverInput struct {
	ID      int64  `path:"id" minimum:"1"`
	Name    string `query:"name" maxLength:"200" doc:"The file's name, for the record"`
	RawBody []byte `contentType:"image/png"`
}

func (s *Server) putProductCover(ctx context.Context, in *coverInput) (*body[benefits.CoverImage], error) {
	scope := scopeOf(ctx)
	// The product first: another merchant's is not found whatever the file.
	if _, err := s.deps.Benefits.Product(ctx, scope, in.ID); err != nil {
		return nil, err
	}
	name := in.Name
	if name == "" {
		name = "cover"
	}
	f, err := upload.Covers.Check(name, in.RawBody)
	if err != nil {
		return nil, err
	}
	return withBenefits(s, func(svc *benefits.Service) (benefits.CoverImage, error) {
		return svc.SetCover(ctx, scope, benefits.CoverImage{ProductID: in.ID, Name: f.Name, ContentType: f.ContentType, SHA256: f.SHA256, Data: f.Data}, actor(ctx))
	})
}

type coverOutput struct {
	ContentType  string `header:"Content-Type"`
	NoSniff      string `header:"X-Content-Type-Options"`
	CacheControl string `header:"Cache-Control"`
	ETag         string `header:"ETag"`
	CSP          string `header:"Content-Security-Policy"`
	Body         []byte
}

// productCover answers a product's brand image with the type sniffed when
// it was uploaded, never guessed again by the browser (nosniff).
func (s *Server) productCover(ctx context.Context, in *benefitIDPath) (*coverOutput, error) {
	img, err := s.deps.Benefits.Cover(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &coverOutput{ContentType: img.ContentType, NoSniff: "nosniff", CacheControl: "public, max-age=300",
		ETag: `"` + img.SHA256 + `"`, CSP: "default-src 'none'", Body: img.Data}, nil
}

// merchantCampaignRequest is what a merchant sets of a campaign: stock
// and value budget come from purchases.
type merchantCampaignRequest struct {
	ProductID  int64              `json:"product_id" minimum:"1"`
	NameZH     string             `json:"name_zh,omitempty" maxLength:"60"`
	NameEN     string             `json:"name_en,omitempty" maxLength:"120"`
	Starts     time.Time          `json:"starts" doc:"When issuing starts"`
	Ends       time.Time          `json:"ends" doc:"When issuing ends (exclusive)"`
	Channels   []benefits.Channel `json:"channels" minItems:"1" doc:"claim, code, direct"`
	PerUser    int                `json:"per_user,omitempty" minimum:"0" doc:"Tickets per account (0: no cap)"`
	BudgetUses int                `json:"budget_uses,omitempty" minimum:"0" doc:"Rides its tickets may pay in all (0: no cap)"`
}

func (s *Server) createMerchantCampaign(ctx context.Context, in *struct{ Body merchantCampaignRequest }) (*campaignOutput, error) {
	scope := scopeOf(ctx)
	if scope.Owner() == "" {
		return nil, fault.New(fault.Forbidden, "merchant_only", "仅商户账号可执行此操作", "only a merchant's users may do this")
	}
	b := in.Body
	c, err := s.deps.Benefits.CreateCampaign(ctx, scope, benefits.Campaign{ProductID: b.ProductID, NameZH: b.NameZH, NameEN: b.NameEN,
		Starts: b.Starts, Ends: b.Ends, Channels: b.Channels, PerUser: b.PerUser, BudgetUses: b.BudgetUses}, scope.Owner(), actor(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.campaignView(ctx, scope, c, true)
	if err != nil {
		return nil, err
	}
	return &campaignOutput{Body: v}, nil
}

type chargesInput struct {
	From string `query:"from" pattern:"^\\d{4}-\\d{2}-\\d{2}$" doc:"First day, YYYY-MM-DD, Asia/Shanghai (default: the first of this month)"`
	To   string `query:"to" pattern:"^\\d{4}-\\d{2}-\\d{2}$" doc:"Last day, inclusive (default: today)"`
}

// operatorChargesInput declares its query fields itself: huma fills no
// parameter of an embedded unexported struct.
type operatorChargesInput struct {
	ID   int64  `path:"id" minimum:"1"`
	From string `query:"from" pattern:"^\\d{4}-\\d{2}-\\d{2}$" doc:"First day, YYYY-MM-DD, Asia/Shanghai (default: the first of this month)"`
	To   string `query:"to" pattern:"^\\d{4}-\\d{2}-\\d{2}$" doc:"Last day, inclusive (default: today)"`
}

type chargesOutput struct {
	Body struct {
		Merchant int64             `json:"merchant,omitempty"`
		From     string            `json:"from"`
		To       string            `json:"to"`
		Rides    int               `json:"rides"`
		Fen      int64             `json:"fen"`
		Charges  []benefits.Charge `json:"charges"`
	}
}

// charges sums what the scope's merchant campaigns saved riders over the
// days asked for (Asia/Shanghai).
func (s *Server) charges(ctx context.Context, scope tenant.Scope, in chargesInput) (*chargesOutput, error) {
	// One reading of the clock: two could straddle the month's turn
	// (Asia/Shanghai midnight) and give a period ending before it starts.
	now := s.deps.Benefits.Now().In(benefits.Shanghai)
	today := network.DateOf(now)
	from, to := today.AddDays(1-now.Day()), today
	for _, d := range []struct {
		text string
		dst  *network.Date
	}{{in.From, &from}, {in.To, &to}} {
		if d.text == "" {
			continue
		}
		v, err := network.ParseDate(d.text)
		if err != nil {
			return nil, fault.Newf(fault.Invalid, "bad_date", "日期 %q 无效", "the date %q is not valid", d.text)
		}
		*d.dst = v
	}
	cs, err := s.deps.Benefits.Charges(ctx, scope, from.In(benefits.Shanghai), to.AddDays(1).In(benefits.Shanghai))
	if err != nil {
		return nil, err
	}
	out := &chargesOutput{}
	out.Body.Merchant, out.Body.From, out.Body.To = scope.MerchantID(), from.String(), to.String()
	out.Body.Charges = append([]benefits.Charge{}, cs...)
	for _, c := range cs {
		out.Body.Rides += c.Rides
		out.Body.Fen += c.Fen
	}
	return out, nil
}

func (s *Server) merchantCharges(ctx context.Context, in *chargesInput) (*chargesOutput, error) {
	scope := scopeOf(ctx)
	if scope.Owner() == "" {
		return nil, fault.New(fault.Forbidden, "merchant_only", "仅商户账号可执行此操作", "only a merchant's users may do this")
	}
	return s.charges(ctx, scope, *in)
}

// operatorCharges is one merchant's charges as the operator sees them.
func (s *Server) operatorCharges(ctx context.Context, in *operatorChargesInput) (*chargesOutput, error) {
	if !scopeOf(ctx).Sees(in.ID) {
		return nil, fault.New(fault.NotFound, "merchant_not_found", "商户不存在", "merchant not found")
	}
	return s.charges(ctx, tenant.Merchant(in.ID), chargesInput{From: in.From, To: in.To})
}
