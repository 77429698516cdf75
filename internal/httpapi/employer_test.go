package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"piao/internal/app/apptest"
	"piao/internal/employer"
	"piao/internal/identity"
)

// The employer routes' parameters in the tenancy matrix: the fixture
// merchant's employee, top-up and bill (made once); rows name their
// employer as employer_id, an ID of a merchant.
func init() {
	rows := func(t *testing.T, f *merchantFixture) *apptest.EmployerRows { return f.Employer(t) }
	employee := func(t *testing.T, f *merchantFixture) string { return id(rows(t, f).Employee.ID) }
	for _, p := range []string{"/api/v1/merchant/employees/{id}", "/api/v1/merchant/employees/{id}/offboard", "/api/v1/merchant/employees/{id}/link", "/api/v1/merchant/employees/{id}/invitation"} {
		tenancyParams[tenancyParam{p, "id"}] = employee
	}
	tenancyParams[tenancyParam{"/api/v1/merchant/top-ups/{id}", "id"}] = func(t *testing.T, f *merchantFixture) string { return id(rows(t, f).TopUp.ID) }
	bill := func(t *testing.T, f *merchantFixture) string { return id(rows(t, f).Bill.ID) }
	tenancyParams[tenancyParam{"/api/v1/merchant/bills/{id}", "id"}] = bill
	tenancyParams[tenancyParam{"/api/v1/merchant/bills/{id}/pay", "id"}] = bill
	tenancyContainers["employer"] = "merchant"
	tenancyContainers["employees"] = "employee"
	tenancyBodies["PATCH /api/v1/merchant/employees/{id}"] = func(*testing.T, *merchantFixture) ([]byte, string) {
		return []byte(`{"department":"人事部"}`), ""
	}
}

// employerTimePaths makes the demo merchant's employee-benefit rows and
// returns answering paths of the employer routes with parameters, for
// TestAnswersGiveBusinessTime.
func employerTimePaths(t *testing.T, s *testServer) map[string]string {
	t.Helper()
	f := newMerchantFixture(t, s.app, 1, purchaseTemplate(t, s.app))
	r := f.Employer(t)
	return map[string]string{
		"/api/v1/merchant/employees/{id}": "/api/v1/merchant/employees/" + id(r.Employee.ID),
		"/api/v1/merchant/top-ups/{id}":   "/api/v1/merchant/top-ups/" + id(r.TopUp.ID),
		"/api/v1/merchant/bills/{id}":     "/api/v1/merchant/bills/" + id(r.Bill.ID),
	}
}

// TestEmployerRosterOverHTTP: an employer imports a roster over the API —
// a file with bad lines is refused whole (422, each error naming line and
// column, nobody stored), a good one is stored with phones masked in the
// answer and in the CSV and XLSX exports; an invitation's token, shown
// once, links the passenger who accepts it, once; staff without
// merchant:employees get 403.
func TestEmployerRosterOverHTTP(t *testing.T) {
	s := newTestServer(t)
	admin := s.token(t, identity.MerchantAdmin)
	bad := "number,name,phone\nA1,张三,13800001111\nA2,李四,1380000\nA1,王五,13800002222\n"
	res := s.do(t, "POST", "/api/v1/merchant/employees/import", admin, strings.NewReader(bad), "Content-Type", "text/csv")
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), "body.line[3].phone") || !strings.Contains(string(res.body), "body.line[4].number") {
		t.Fatalf("bad roster: %d %s", res.status, res.body)
	}
	var list struct{ Employees []employer.Employee }
	if res := s.do(t, "GET", "/api/v1/merchant/employees", admin, nil); res.status != 200 || json.Unmarshal(res.body, &list) != nil || len(list.Employees) != 0 {
		t.Fatalf("after a refused import: %d %s", res.status, res.body)
	}
	good := "工号,姓名,手机号,部门\nA1,张三,13800001111,研发部\nA2,李四,13800002222,\n"
	res = s.do(t, "POST", "/api/v1/merchant/employees/import", admin, strings.NewReader(good), "Content-Type", "text/csv")
	if res.status != 200 || json.Unmarshal(res.body, &list) != nil || len(list.Employees) != 2 {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	if strings.Contains(string(res.body), "13800001111") || !strings.Contains(string(res.body), "138****1111") {
		t.Fatalf("phones not masked in the answer: %s", res.body)
	}
	for _, format := range []string{"csv", "xlsx"} {
		res := s.do(t, "GET", "/api/v1/merchant/employees/export?format="+format, admin, nil)
		if res.status != 200 || strings.Contains(string(res.body), "13800001111") || len(res.body) < 50 {
			t.Fatalf("export %s: %d %.200s", format, res.status, res.body)
		}
		if format == "csv" && !strings.Contains(string(res.body), "138****1111") {
			t.Fatalf("csv export: %s", res.body)
		}
	}
	// An invitation for 李四, accepted by a passenger.
	res = s.do(t, "POST", fmt.Sprintf("/api/v1/merchant/employees/%d/invitation", list.Employees[1].ID), admin, nil)
	var inv struct{ Token string }
	if res.status != 200 || json.Unmarshal(res.body, &inv) != nil || inv.Token == "" {
		t.Fatalf("invite: %d %s", res.status, res.body)
	}
	rider := s.token(t, identity.Passenger)
	body := strings.NewReader(fmt.Sprintf(`{"token":%q}`, inv.Token))
	if res := s.do(t, "POST", "/api/v1/employee-invitations/accept", rider, body); res.status != 200 {
		t.Fatalf("accept: %d %s", res.status, res.body)
	}
	body = strings.NewReader(fmt.Sprintf(`{"token":%q}`, inv.Token))
	if res := s.do(t, "POST", "/api/v1/employee-invitations/accept", rider, body); res.status != http.StatusNotFound {
		t.Fatalf("accepting twice: %d %s", res.status, res.body)
	}
	e, err := s.app.Employers.Employee(context.Background(), identity.Principal{Account: identity.Account{Role: identity.OperatorAdmin}}.Tenant(), list.Employees[1].ID)
	if err == nil {
		t.Fatalf("the operator's scope names no organisation, yet read %+v", e)
	}
	staff := merchantLogin(t, s.app, 1, identity.MerchantStaff, []identity.Permission{identity.MerchantFinance})
	if res := s.do(t, "GET", "/api/v1/merchant/employees", staff, nil); res.status != http.StatusForbidden {
		t.Fatalf("staff without merchant:employees: %d", res.status)
	}
}
