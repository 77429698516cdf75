package httpapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"

	"piao/internal/abuse"
	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/employer"
	"piao/internal/identity"
	"piao/internal/payment"
	"piao/internal/sheet"
)

// employerRoutes registers employee benefits (SPEC B3): an employer's
// roster and allowance rule (merchant:employees), its money
// (merchant:finance), the passenger's acceptance of an invitation and the
// gateway's notifications.
func (s *Server) employerRoutes() {
	g := s.group(s.deps.Employers != nil, employer.ErrNotRunning)
	const tag = "employer"
	staff := identity.MerchantEmployees
	add(g, staff, op("GET", "/api/v1/merchant/employees", "listEmployees", tag, "The employer's roster by ID, phones masked (status and after page it)", "员工花名册"), s.listEmployees)
	add(g, staff, op("POST", "/api/v1/merchant/employees", "addEmployee", tag, "Put one employee on the roster; linked at once to the passenger account with the same phone, if any", "新增员工（手机号已注册乘客账号则自动关联）"), s.addEmployee)
	add(g, staff, op("POST", "/api/v1/merchant/employees/import", "importEmployees", tag,
		"Import a roster CSV (header number, name, phone, optionally department and joined; at most 10,000 lines and 1 MiB), all or nothing: any error — a bad field, a number or phone repeated in the file or already on the roster — refuses the whole file (422, each error naming its line and column)",
		"导入花名册 CSV：逐行校验，有错整份拒绝"), s.importEmployees)
	add(g, staff, op("GET", "/api/v1/merchant/employees/export", "exportEmployees", tag, "The roster as CSV or XLSX (format=csv|xlsx), phones masked", "导出花名册（CSV 或 XLSX）"), s.exportEmployees)
	add(g, staff, op("GET", "/api/v1/merchant/employees/{id}", "getEmployee", tag, "One employee", ""), s.getEmployee)
	add(g, staff, op("PATCH", "/api/v1/merchant/employees/{id}", "editEmployee", tag, "Change an employee's number, name, phone, department or joining date (audited)", "修改员工信息"), s.editEmployee)
	add(g, staff, op("POST", "/api/v1/merchant/employees/{id}/offboard", "offboardEmployee", tag,
		"Offboard an employee (audited): no more allowance; by the rule, this month's unused allowance is revoked at once or runs to the month's end", "员工离职：按规则收回或保留当月未用补贴"), s.offboardEmployee)
	add(g, staff, op("POST", "/api/v1/merchant/employees/{id}/link", "linkEmployee", tag, "Link an employee to the passenger account with the employee's phone", "按手机号关联乘客账号"), s.linkEmployee)
	add(g, staff, op("POST", "/api/v1/merchant/employees/{id}/invitation", "inviteEmployee", tag,
		"Make a one-time invitation for an unlinked employee: the token is shown once; the employee accepts it logged in as a passenger (valid 7 days)", "生成员工邀请（令牌仅显示一次）"), s.inviteEmployee)
	add(g, staff, op("GET", "/api/v1/merchant/allowances", "getAllowanceRule", tag, "The employer's allowance rule with its campaign (review status, budget, spent)", "通勤补贴规则"), s.getAllowanceRule)
	add(g, staff, op("POST", "/api/v1/merchant/allowances", "createAllowanceRule", tag,
		"Set up the employer's monthly allowance (N rides a month in a scope; offboarding revoke or keep; paying prepaid or invoiced with a monthly credit): its campaign is submitted for the operator's review, and issuing starts once approved",
		"设置每月通勤补贴规则（提交运营方审核）"), s.createAllowanceRule)
	add(g, staff, op("PATCH", "/api/v1/merchant/allowances", "updateAllowanceRule", tag, "Change the offboarding policy or an invoiced employer's monthly credit", "修改离职处理或月度额度"), s.updateAllowanceRule)
	add(g, staff, op("POST", "/api/v1/merchant/allowances/run", "runAllowances", tag,
		"Issue this month's allowance now to every active, linked employee not yet holding it (the periodic job does the same; each employee gets one ticket a month)", "立即发放本月补贴"), s.runAllowances)

	money := identity.MerchantFinance
	add(g, money, op("POST", "/api/v1/merchant/top-ups", "createTopUp", tag, "Top up a prepaid employer's balance: pay at pay_url; once paid it is the allowance's budget", "企业预付充值，随后在 pay_url 支付"), s.createTopUp)
	add(g, money, op("GET", "/api/v1/merchant/top-ups", "listTopUps", tag, "The employer's top-ups, newest first", "充值记录"), s.listTopUps)
	add(g, money, op("GET", "/api/v1/merchant/top-ups/{id}", "getTopUp", tag, "One top-up", ""), s.getTopUp)
	add(g, money, op("GET", "/api/v1/merchant/bills", "listBills", tag, "An invoiced employer's monthly bills, newest first", "月结账单"), s.listBills)
	add(g, money, op("GET", "/api/v1/merchant/bills/{id}", "getBill", tag, "One bill", ""), s.getBill)
	add(g, money, op("POST", "/api/v1/merchant/bills/{id}/pay", "payBill", tag, "Pay an issued bill through the payment gateway: pay at pay_url", "支付月结账单"), s.payBill)

	add(g.limited(abuse.Redeem), identity.WalletOwn, op("POST", "/api/v1/employee-invitations/accept", "acceptEmployeeInvitation", tag,
		"Accept an employer's invitation: the logged-in passenger account becomes the employee's, and receives the monthly allowance", "接受企业邀请，关联本人乘客账号"), s.acceptEmployeeInvitation)
	notify := s.group(s.deps.Payments != nil, employer.ErrMoneyOff).and(s.deps.Employers != nil, employer.ErrNotRunning)
	add(notify, identity.Public, op("POST", "/api/v1/employer-payments/notify", "employerPaymentNotify", tag, "Payment gateway notifications for top-ups and bills (signed)", "企业充值与账单支付异步通知：验签后处理，重复通知幂等"), s.employerPaymentNotify)
}

type employeesInput struct {
	Status string `query:"status" enum:"active,offboarded," doc:"Only employees in this status"`
	After  int64  `query:"after" minimum:"0" doc:"Only employees with a larger ID (the next page)"`
	Limit  int    `query:"limit" minimum:"1" maximum:"10000" default:"100"`
}

type employeesOutput struct {
	Body struct {
		Employees []employer.Employee `json:"employees"`
	}
}

func (s *Server) listEmployees(ctx context.Context, in *employeesInput) (*employeesOutput, error) {
	es, err := s.deps.Employers.Employees(ctx, scopeOf(ctx), employer.Filter{Status: employer.Status(in.Status), AfterID: in.After, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	out := &employeesOutput{}
	out.Body.Employees = append([]employer.Employee{}, es...)
	return out, nil
}

type employeeBody struct {
	Number     string `json:"number" maxLength:"32" doc:"The employer's employee number, unique in its roster"`
	Name       string `json:"name" maxLength:"50"`
	Phone      string `json:"phone" maxLength:"11" doc:"Mobile number, 11 digits (sealed at rest, masked in answers)"`
	Department string `json:"department,omitempty" maxLength:"50"`
	Joined     string `json:"joined,omitempty" doc:"Joining date, YYYY-MM-DD; no allowance before it"`
}

type addEmployeeInput struct {
	Body employeeBody
}

func (s *Server) addEmployee(ctx context.Context, in *addEmployeeInput) (*body[employer.Employee], error) {
	e := employer.Employee{Number: in.Body.Number, Name: in.Body.Name, Phone: in.Body.Phone, Department: in.Body.Department}
	if err := (employer.EmployeeEdit{Joined: &in.Body.Joined}).Apply(&e); err != nil {
		return nil, err
	}
	out, err := s.deps.Employers.Add(ctx, scopeOf(ctx), e)
	if err != nil {
		return nil, err
	}
	return &body[employer.Employee]{Body: out}, nil
}

type importEmployeesInput struct {
	Language string `header:"Accept-Language"`
	RawBody  []byte `contentType:"text/csv" doc:"UTF-8 CSV: header number,name,phone[,department][,joined], then one employee per line"`
}

func (s *Server) importEmployees(ctx context.Context, in *importEmployeesInput) (*employeesOutput, error) {
	es, err := s.deps.Employers.Import(ctx, scopeOf(ctx), in.RawBody)
	var re *distribution.RosterError
	if errors.As(err, &re) {
		return nil, rosterProblem(ctx, preferredLanguage(in.Language), re)
	}
	if err != nil {
		return nil, err
	}
	out := &employeesOutput{}
	out.Body.Employees = append([]employer.Employee{}, es...)
	return out, nil
}

type exportEmployeesInput struct {
	Format string `query:"format" enum:"csv,xlsx," doc:"csv (default) or xlsx"`
}

func (s *Server) exportEmployees(ctx context.Context, in *exportEmployeesInput) (*csvOutput, error) {
	f, err := sheet.ParseFormat(in.Format)
	if err != nil {
		return nil, err
	}
	es, err := s.deps.Employers.Employees(ctx, scopeOf(ctx), employer.Filter{Limit: employer.MaxRoster})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := sheet.Write(&b, f, employer.Sheet(es)); err != nil {
		return nil, err
	}
	return &csvOutput{ContentType: f.ContentType(), ContentDisposition: `attachment; filename="` + f.FileName("roster") + `"`, Body: b.Bytes()}, nil
}

func (s *Server) getEmployee(ctx context.Context, in *benefitIDPath) (*body[employer.Employee], error) {
	e, err := s.deps.Employers.Employee(ctx, scopeOf(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &body[employer.Employee]{Body: e}, nil
}

type editEmployeeInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body employer.EmployeeEdit
}

func (s *Server) editEmployee(ctx context.Context, in *editEmployeeInput) (*body[employer.Employee], error) {
	e, err := s.deps.Employers.Edit(ctx, scopeOf(ctx), in.ID, in.Body)
	if err != nil {
		return nil, err
	}
	return &body[employer.Employee]{Body: e}, nil
}

type offboardInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Left   string `json:"left,omitempty" doc:"The last day, YYYY-MM-DD (default today)"`
		Reason string `json:"reason,omitempty" maxLength:"500"`
	}
}

type offboardOutput struct {
	Body struct {
		Employee employer.Employee `json:"employee"`
		Revoked  int               `json:"revoked" doc:"Allowance tickets taken back"`
	}
}

func (s *Server) offboardEmployee(ctx context.Context, in *offboardInput) (*offboardOutput, error) {
	e, n, err := s.deps.Employers.Offboard(ctx, scopeOf(ctx), in.ID, in.Body.Left, in.Body.Reason)
	if err != nil {
		return nil, err
	}
	out := &offboardOutput{}
	out.Body.Employee, out.Body.Revoked = e, n
	return out, nil
}

func (s *Server) linkEmployee(ctx context.Context, in *benefitIDPath) (*body[employer.Employee], error) {
	e, err := s.deps.Employers.LinkByPhone(ctx, scopeOf(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &body[employer.Employee]{Body: e}, nil
}

func (s *Server) inviteEmployee(ctx context.Context, in *benefitIDPath) (*body[employer.EmployeeInvited], error) {
	inv, err := s.deps.Employers.Invite(ctx, scopeOf(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &body[employer.EmployeeInvited]{Body: inv}, nil
}

func (s *Server) getAllowanceRule(ctx context.Context, _ *struct{}) (*body[employer.AllowanceView], error) {
	v, err := s.deps.Employers.RuleView(ctx, scopeOf(ctx))
	if err != nil {
		return nil, err
	}
	return &body[employer.AllowanceView]{Body: v}, nil
}

type createRuleInput struct {
	Body struct {
		Rides            int                  `json:"rides" minimum:"1" maximum:"200" doc:"Rides a month per employee"`
		Feed             string               `json:"feed" doc:"The metro network"`
		Scope            benefits.Scope       `json:"scope,omitempty" doc:"Where and when the rides apply, as any product's scope"`
		Offboarding      employer.Offboarding `json:"offboarding" enum:"revoke,keep"`
		Paying           employer.Paying      `json:"paying" enum:"prepaid,invoiced"`
		MonthlyCreditFen int64                `json:"monthly_credit_fen,omitempty" minimum:"0" doc:"Invoiced employers: the most the allowance spends a month, in fen"`
	}
}

func (s *Server) createAllowanceRule(ctx context.Context, in *createRuleInput) (*body[employer.AllowanceRule], error) {
	b := in.Body
	r, err := s.deps.Employers.CreateRule(ctx, scopeOf(ctx), employer.AllowanceRule{Rides: b.Rides, Feed: b.Feed, Scope: b.Scope, Offboard: b.Offboarding, Paying: b.Paying, MonthlyCreditFen: b.MonthlyCreditFen}, actor(ctx))
	if err != nil {
		return nil, err
	}
	return &body[employer.AllowanceRule]{Body: r}, nil
}

type updateRuleInput struct {
	Body employer.AllowanceChange
}

func (s *Server) updateAllowanceRule(ctx context.Context, in *updateRuleInput) (*body[employer.AllowanceRule], error) {
	r, err := s.deps.Employers.UpdateRule(ctx, scopeOf(ctx), in.Body)
	if err != nil {
		return nil, err
	}
	return &body[employer.AllowanceRule]{Body: r}, nil
}

func (s *Server) runAllowances(ctx context.Context, _ *struct{}) (*body[employer.AllowanceProgress], error) {
	p, err := s.deps.Employers.RunNow(ctx, scopeOf(ctx))
	if err != nil {
		return nil, err
	}
	return &body[employer.AllowanceProgress]{Body: p}, nil
}

type createTopUpInput struct {
	Body struct {
		AmountFen int64 `json:"amount_fen" minimum:"100" maximum:"100000000" doc:"The amount, in fen (¥1 to ¥1,000,000)"`
	}
}

func (s *Server) createTopUp(ctx context.Context, in *createTopUpInput) (*body[employer.TopUp], error) {
	t, err := s.deps.Employers.CreateTopUp(ctx, scopeOf(ctx), PrincipalFrom(ctx).Account.ID, in.Body.AmountFen)
	if err != nil {
		return nil, err
	}
	return &body[employer.TopUp]{Body: t}, nil
}

type topUpsOutput struct {
	Body struct {
		TopUps []employer.TopUp `json:"top_ups"`
	}
}

func (s *Server) listTopUps(ctx context.Context, _ *struct{}) (*topUpsOutput, error) {
	ts, err := s.deps.Employers.TopUps(ctx, scopeOf(ctx))
	if err != nil {
		return nil, err
	}
	out := &topUpsOutput{}
	out.Body.TopUps = append([]employer.TopUp{}, ts...)
	return out, nil
}

func (s *Server) getTopUp(ctx context.Context, in *benefitIDPath) (*body[employer.TopUp], error) {
	t, err := s.deps.Employers.TopUp(ctx, scopeOf(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &body[employer.TopUp]{Body: t}, nil
}

type billsOutput struct {
	Body struct {
		Bills []employer.Bill `json:"bills"`
	}
}

func (s *Server) listBills(ctx context.Context, _ *struct{}) (*billsOutput, error) {
	bs, err := s.deps.Employers.Bills(ctx, scopeOf(ctx))
	if err != nil {
		return nil, err
	}
	out := &billsOutput{}
	out.Body.Bills = append([]employer.Bill{}, bs...)
	return out, nil
}

func (s *Server) getBill(ctx context.Context, in *benefitIDPath) (*body[employer.Bill], error) {
	b, err := s.deps.Employers.Bill(ctx, scopeOf(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &body[employer.Bill]{Body: b}, nil
}

func (s *Server) payBill(ctx context.Context, in *benefitIDPath) (*body[employer.Bill], error) {
	b, err := s.deps.Employers.PayBill(ctx, scopeOf(ctx), PrincipalFrom(ctx).Account.ID, in.ID)
	if err != nil {
		return nil, err
	}
	return &body[employer.Bill]{Body: b}, nil
}

type acceptEmployeeInvitationInput struct {
	Body struct {
		Token string `json:"token" minLength:"10" maxLength:"100" doc:"The invitation token the employer gave"`
	}
}

func (s *Server) acceptEmployeeInvitation(ctx context.Context, in *acceptEmployeeInvitationInput) (*body[employer.Employee], error) {
	e, err := s.deps.Employers.AcceptInvitation(ctx, in.Body.Token, PrincipalFrom(ctx).Account.ID)
	if err != nil {
		return nil, err
	}
	return &body[employer.Employee]{Body: e}, nil
}

func (s *Server) employerPaymentNotify(ctx context.Context, in *notifyInput) (*notifyOutput, error) {
	h := http.Header{}
	h.Set(payment.HeaderTimestamp, in.Timestamp)
	h.Set(payment.HeaderNonce, in.Nonce)
	h.Set(payment.HeaderSignature, in.Signature)
	n, err := s.deps.Payments.Verify(h, in.RawBody)
	if err != nil {
		return nil, err
	}
	outcome, err := s.deps.Employers.HandleNotification(ctx, n)
	if err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "employer payment notification", "request_id", requestIDFrom(ctx), "payment", n.PaymentID, "order_ref", n.OrderRef, "outcome", string(outcome))
	return &notifyOutput{ContentType: "text/plain; charset=utf-8", Body: []byte("success")}, nil
}
