package httpapi

import (
	"context"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"piao/internal/abuse"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/merchant"
	"piao/internal/upload"
)

// applicationMaxBody is the largest application or paper upload one
// request may carry: four papers of the largest size and the fields.
// More papers are added with further requests.
const applicationMaxBody = 4*5<<20 + 1<<20

// merchantOnboardingRoutes registers merchant onboarding (SPEC B1): the
// public application and its follow-up by applicant token, the
// operator's review, and the merchant admin's staff.
func (s *Server) merchantOnboardingRoutes() {
	g := s.group(s.deps.Merchants != nil, merchant.ErrNotRunning)
	const tag = "merchants"
	public := g.limited(abuse.Apply)
	add(public.withMaxBody(applicationMaxBody), identity.Public, op("POST", "/api/v1/merchant-applications", "applyMerchant", tag,
		"Apply as a merchant: multipart/form-data with the fields and the papers as files (at least one `licence`; PDF, PNG or JPEG, each at most 5 MiB; at most 10 papers in all, 20 MiB in one request). Answers the applicant token, shown once.",
		"商户入驻申请：multipart/form-data 表单，字段加文件（至少一份营业执照 licence；PDF、PNG 或 JPEG，每份不超过 5 MiB）。返回申请凭证，仅显示一次。"), s.applyMerchant)
	add(public, identity.Public, op("GET", "/api/v1/merchant-applications/status", "getMerchantApplication", tag,
		"The application the X-Applicant-Token header follows: its status, papers and events", "凭申请凭证（X-Applicant-Token 头）查看申请进度"), s.getApplication)
	add(public.withMaxBody(applicationMaxBody), identity.Public, op("POST", "/api/v1/merchant-applications/papers", "addMerchantPapers", tag,
		"Add papers to the application the X-Applicant-Token header follows (multipart/form-data, files `licence` and `other`), while it waits for review or for more papers",
		"补充申请材料（multipart/form-data）"), s.addPapers)
	add(public, identity.Public, op("POST", "/api/v1/merchant-applications/resubmit", "resubmitMerchantApplication", tag,
		"Send the application back to review after the operator asked for more papers", "补充材料后重新提交审核"), s.resubmitApplication)
	add(g.limited(abuse.Login), identity.Public, op("POST", "/api/v1/merchant-invitations/accept", "acceptMerchantInvitation", tag,
		"Accept a merchant's staff invitation with a password: the staff account is made with the grants the invitation names", "接受商户员工邀请并设置密码"), s.acceptInvitation)

	add(g, identity.MerchantsRead, op("GET", "/api/v1/merchants", "listMerchants", tag, "Merchants, newest first; status=applied is the review queue", "商户列表；status=applied 为待审核队列"), s.listMerchants)
	add(g, identity.MerchantsRead, op("GET", "/api/v1/merchants/{id}", "getMerchant", tag, "A merchant with its papers (metadata) and events", "商户详情：材料与审核记录"), s.getMerchant)
	add(g, identity.MerchantsRead, op("GET", "/api/v1/merchants/{id}/papers/{paper}", "getMerchantPaper", tag, "One of a merchant's papers, the file itself (as an attachment)", "下载商户材料"), s.getPaper)
	for _, r := range []struct {
		path, id, summary, zh string
		action                merchant.Action
	}{
		{"approve", "approveMerchant", "Approve an application: the merchant's admin login is made", "审核通过：开通商户管理员账号", merchant.Approve},
		{"reject", "rejectMerchant", "Reject an application with a reason", "驳回申请，须说明原因", merchant.Reject},
		{"request-info", "requestMerchantInfo", "Ask the applicant for more papers, with a reason", "要求补充材料，须说明原因", merchant.RequestInfo},
		{"suspend", "suspendMerchant", "Suspend a merchant with a reason: every account of it is disabled and logged out", "暂停商户，须说明原因：其所有账号停用并下线", merchant.Suspend},
		{"reinstate", "reinstateMerchant", "Reinstate a suspended merchant: the accounts the suspension disabled work again", "恢复商户：暂停时停用的账号恢复", merchant.Reinstate},
	} {
		action := r.action
		add(g, identity.MerchantsReview, op("POST", "/api/v1/merchants/{id}/"+r.path, r.id, tag, r.summary, r.zh),
			func(ctx context.Context, in *reviewInput) (*body[merchant.Merchant], error) {
				m, err := s.deps.Merchants.Review(ctx, PrincipalFrom(ctx).Tenant(), in.ID, action, in.Body.Reason)
				if err != nil {
					return nil, err
				}
				return &body[merchant.Merchant]{m}, nil
			})
	}

	add(g, identity.MerchantUsers, op("GET", "/api/v1/merchant", "getOwnMerchant", tag, "The caller's merchant", "本商户信息"), s.ownMerchant)
	add(g, identity.MerchantUsers, op("GET", "/api/v1/merchant/staff", "listMerchantStaff", tag, "The merchant's accounts and open invitations", "本商户员工与待接受的邀请"), s.listStaff)
	add(g, identity.MerchantUsers, op("POST", "/api/v1/merchant/staff", "inviteMerchantStaff", tag,
		"Invite a staff member with grants (a subset of merchant:campaigns, merchant:distribution, merchant:reports, merchant:finance, merchant:employees): answers the invitation token, shown once, valid 7 days",
		"邀请员工并授予权限（分权）：返回邀请凭证，仅显示一次，7 天内有效"), s.inviteStaff)
	add(g, identity.MerchantUsers, op("PUT", "/api/v1/merchant/staff/{id}/grants", "setMerchantStaffGrants", tag, "Replace a staff account's grants", "修改员工权限"), s.setStaffGrants)
	add(g, identity.MerchantUsers, op("POST", "/api/v1/merchant/staff/{id}/disable", "disableMerchantStaff", tag, "Disable a staff account and end its sessions and tokens", "停用员工账号并使其下线"), s.disableStaff)
	add(g, identity.MerchantUsers, op("POST", "/api/v1/merchant/staff/{id}/enable", "enableMerchantStaff", tag, "Enable a staff account again", "恢复员工账号"), s.enableStaff)
}

// applicationForm is the multipart form of an application.
type applicationForm struct {
	LegalName     string          `form:"legal_name" doc:"The legal name on the business licence, 2–100 characters"`
	CreditCode    string          `form:"credit_code" doc:"The unified social credit code (统一社会信用代码), 18 characters, check characters verified"`
	ContactName   string          `form:"contact_name" doc:"The contact person"`
	ContactPhone  string          `form:"contact_phone" doc:"The contact's mobile number, 11 digits"`
	AdminUsername string          `form:"admin_username" doc:"The login the merchant's admin will use once approved"`
	AdminPassword string          `form:"admin_password" doc:"The admin's password, at least 8 characters (hashed at once)"`
	Kind          string          `form:"kind" required:"false" enum:"merchant,employer" doc:"The organisation: merchant (default) or employer (employee travel allowances)"`
	Licence       []huma.FormFile `form:"licence" required:"false" doc:"The business licence (营业执照), at least one: PDF, PNG or JPEG, at most 5 MiB each"`
	Other         []huma.FormFile `form:"other" required:"false" doc:"Other papers: PDF, PNG or JPEG, at most 5 MiB each"`
}

type merchantApplyInput struct {
	RawBody huma.MultipartFormFiles[applicationForm]
}

// readUploads reads multipart files as papers of kind. The type is
// sniffed later from the bytes, never taken from the part's header.
func readUploads(kind merchant.PaperKind, files []huma.FormFile) ([]merchant.Upload, error) {
	var out []merchant.Upload
	for _, f := range files {
		if !f.IsSet {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(f.File, int64(upload.Papers.MaxSize)+1))
		f.Close()
		if err != nil {
			return nil, fault.Wrap(err, "read paper")
		}
		out = append(out, merchant.Upload{Kind: kind, Name: f.Filename, Data: data})
	}
	return out, nil
}

func formUploads(licence, other []huma.FormFile) ([]merchant.Upload, error) {
	l, err := readUploads(merchant.Licence, licence)
	if err != nil {
		return nil, err
	}
	o, err := readUploads(merchant.OtherPaper, other)
	return append(l, o...), err
}

func (s *Server) applyMerchant(ctx context.Context, in *merchantApplyInput) (*body[merchant.Receipt], error) {
	f := in.RawBody.Data()
	papers, err := formUploads(f.Licence, f.Other)
	if err != nil {
		return nil, err
	}
	r, err := s.deps.Merchants.Apply(ctx, merchant.Application{LegalName: f.LegalName, CreditCode: f.CreditCode,
		Contact: merchant.Contact{Name: f.ContactName, Phone: f.ContactPhone}, AdminUsername: f.AdminUsername, AdminPassword: f.AdminPassword, Papers: papers, Kind: merchant.Kind(f.Kind)})
	if err != nil {
		return nil, err
	}
	return &body[merchant.Receipt]{r}, nil
}

// applicantHeader carries the applicant token: in a header, so it never
// lands in a URL, a log line or a browser's history.
type applicantHeader struct {
	Token string `header:"X-Applicant-Token" required:"true" maxLength:"100" doc:"The applicant token the application answered"`
}

func (s *Server) getApplication(ctx context.Context, in *applicantHeader) (*body[merchant.Dossier], error) {
	d, err := s.deps.Merchants.ApplicationStatus(ctx, in.Token)
	if err != nil {
		return nil, err
	}
	return &body[merchant.Dossier]{d}, nil
}

type papersForm struct {
	Licence []huma.FormFile `form:"licence" required:"false" doc:"Business licence files"`
	Other   []huma.FormFile `form:"other" required:"false" doc:"Other papers"`
}

type addPapersInput struct {
	Token   string `header:"X-Applicant-Token" required:"true" maxLength:"100" doc:"The applicant token the application answered"`
	RawBody huma.MultipartFormFiles[papersForm]
}

type papersOutput struct {
	Body struct {
		Papers []merchant.Paper `json:"papers"`
	}
}

func (s *Server) addPapers(ctx context.Context, in *addPapersInput) (*papersOutput, error) {
	f := in.RawBody.Data()
	uploads, err := formUploads(f.Licence, f.Other)
	if err != nil {
		return nil, err
	}
	ps, err := s.deps.Merchants.AddPapers(ctx, in.Token, uploads)
	if err != nil {
		return nil, err
	}
	out := &papersOutput{}
	out.Body.Papers = ps
	return out, nil
}

type resubmitInput struct {
	Token string `header:"X-Applicant-Token" required:"true" maxLength:"100" doc:"The applicant token the application answered"`
	Body  struct {
		Note string `json:"note,omitempty" maxLength:"500" doc:"What was added"`
	}
}

func (s *Server) resubmitApplication(ctx context.Context, in *resubmitInput) (*body[merchant.Merchant], error) {
	m, err := s.deps.Merchants.ResubmitApplication(ctx, in.Token, in.Body.Note)
	if err != nil {
		return nil, err
	}
	return &body[merchant.Merchant]{m}, nil
}

type merchantsInput struct {
	Status string `query:"status" enum:"applied,info_requested,approved,rejected,suspended," doc:"Only merchants in this status"`
}

type merchantsOutput struct {
	Body struct {
		Merchants []merchant.Merchant `json:"merchants"`
	}
}

func (s *Server) listMerchants(ctx context.Context, in *merchantsInput) (*merchantsOutput, error) {
	ms, err := s.deps.Merchants.Merchants(ctx, PrincipalFrom(ctx).Tenant(), merchant.Status(in.Status))
	if err != nil {
		return nil, err
	}
	out := &merchantsOutput{}
	out.Body.Merchants = append([]merchant.Merchant{}, ms...)
	return out, nil
}

type merchantIDPath struct {
	ID int64 `path:"id" minimum:"1"`
}

func (s *Server) getMerchant(ctx context.Context, in *merchantIDPath) (*body[merchant.Dossier], error) {
	d, err := s.deps.Merchants.Dossier(ctx, PrincipalFrom(ctx).Tenant(), in.ID)
	if err != nil {
		return nil, err
	}
	return &body[merchant.Dossier]{d}, nil
}

type paperInput struct {
	ID    int64 `path:"id" minimum:"1"`
	Paper int64 `path:"paper" minimum:"1"`
}

type fileOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	ContentTypeOptions string `header:"X-Content-Type-Options"`
	Body               []byte
}

// getPaper answers a paper as an attachment, with the type sniffed when
// it was uploaded: a browser neither renders it in piao's origin nor
// guesses another type.
func (s *Server) getPaper(ctx context.Context, in *paperInput) (*fileOutput, error) {
	p, err := s.deps.Merchants.Paper(ctx, PrincipalFrom(ctx).Tenant(), in.ID, in.Paper)
	if err != nil {
		return nil, err
	}
	return &fileOutput{ContentType: p.ContentType, ContentTypeOptions: "nosniff",
		ContentDisposition: `attachment; filename="paper-` + strconv.FormatInt(p.ID, 10) + `"; filename*=UTF-8''` + url.PathEscape(p.Name), Body: p.Data}, nil
}

type reviewInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Reason string `json:"reason,omitempty" maxLength:"500" doc:"Why: required to reject, ask for more and suspend"`
	}
}

func (s *Server) ownMerchant(ctx context.Context, _ *struct{}) (*body[merchant.Merchant], error) {
	scope := PrincipalFrom(ctx).Tenant()
	m, err := s.deps.Merchants.Merchant(ctx, scope, scope.MerchantID())
	if err != nil {
		return nil, err
	}
	return &body[merchant.Merchant]{m}, nil
}

// staffView is a merchant's account as its admin sees it.
type staffView struct {
	ID          int64                 `json:"id"`
	Username    string                `json:"username"`
	DisplayName string                `json:"display_name"`
	Role        identity.Role         `json:"role"`
	Grants      []identity.Permission `json:"grants"`
	Disabled    bool                  `json:"disabled"`
	CreatedAt   time.Time             `json:"created_at"`
}

func toStaffView(a identity.Account) staffView {
	g := a.Grants
	if g == nil {
		g = []identity.Permission{}
	}
	return staffView{ID: a.ID, Username: a.Username, DisplayName: a.DisplayName, Role: a.Role, Grants: g, Disabled: a.Disabled, CreatedAt: a.CreatedAt}
}

type staffOutput struct {
	Body struct {
		Accounts    []staffView           `json:"accounts"`
		Invitations []merchant.Invitation `json:"invitations"`
	}
}

func (s *Server) listStaff(ctx context.Context, _ *struct{}) (*staffOutput, error) {
	scope := PrincipalFrom(ctx).Tenant()
	accts, err := s.deps.Merchants.Staff(ctx, scope)
	if err != nil {
		return nil, err
	}
	invs, err := s.deps.Merchants.Invitations(ctx, scope)
	if err != nil {
		return nil, err
	}
	out := &staffOutput{}
	out.Body.Accounts = []staffView{}
	for _, a := range accts {
		out.Body.Accounts = append(out.Body.Accounts, toStaffView(a))
	}
	out.Body.Invitations = append([]merchant.Invitation{}, invs...)
	return out, nil
}

type inviteInput struct {
	Body struct {
		Username    string                `json:"username" maxLength:"64"`
		DisplayName string                `json:"display_name,omitempty" maxLength:"50"`
		Grants      []identity.Permission `json:"grants" maxItems:"5" doc:"merchant:campaigns, merchant:distribution, merchant:reports, merchant:finance, merchant:employees"`
	}
}

func (s *Server) inviteStaff(ctx context.Context, in *inviteInput) (*body[merchant.Invited], error) {
	inv, err := s.deps.Merchants.Invite(ctx, PrincipalFrom(ctx).Tenant(), merchant.Invite{Username: in.Body.Username, DisplayName: in.Body.DisplayName, Grants: in.Body.Grants})
	if err != nil {
		return nil, err
	}
	return &body[merchant.Invited]{inv}, nil
}

type grantsInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Grants []identity.Permission `json:"grants" required:"false" maxItems:"5" doc:"The grants the account holds from now on (it replaces them): merchant:campaigns, merchant:distribution, merchant:reports, merchant:finance, merchant:employees; omitted or empty: none"`
	}
}

func (s *Server) setStaffGrants(ctx context.Context, in *grantsInput) (*body[staffView], error) {
	a, err := s.deps.Merchants.SetStaffGrants(ctx, PrincipalFrom(ctx).Tenant(), in.ID, in.Body.Grants)
	if err != nil {
		return nil, err
	}
	return &body[staffView]{toStaffView(a)}, nil
}

func (s *Server) disableStaff(ctx context.Context, in *merchantIDPath) (*body[staffView], error) {
	return s.staffDisabled(ctx, in.ID, true)
}

func (s *Server) enableStaff(ctx context.Context, in *merchantIDPath) (*body[staffView], error) {
	return s.staffDisabled(ctx, in.ID, false)
}

func (s *Server) staffDisabled(ctx context.Context, id int64, disabled bool) (*body[staffView], error) {
	a, err := s.deps.Merchants.SetStaffDisabled(ctx, PrincipalFrom(ctx).Tenant(), id, disabled)
	if err != nil {
		return nil, err
	}
	return &body[staffView]{toStaffView(a)}, nil
}

type acceptInvitationInput struct {
	Body struct {
		Token    string `json:"token" maxLength:"100" doc:"The invitation token"`
		Password string `json:"password" maxLength:"256" doc:"The new account's password, at least 8 characters"`
	}
}

func (s *Server) acceptInvitation(ctx context.Context, in *acceptInvitationInput) (*body[staffView], error) {
	a, err := s.deps.Merchants.AcceptInvitation(ctx, in.Body.Token, in.Body.Password)
	if err != nil {
		return nil, err
	}
	return &body[staffView]{toStaffView(a)}, nil
}
