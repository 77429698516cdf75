package console

import (
	"net/http"
	"strconv"

	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/realname"
)

// h5DocumentsView is the passenger's documents page: the passenger list,
// the claims filed, and the forms to claim a document and approve another
// account.
type h5DocumentsView struct {
	Documents []documentRow
	Claims    []claimRow
	DocTypes  []docTypeOption
	Notice    string
	// Form keeps what was typed when a form was refused.
	Name, DocType, DocNumber, Account string
	// Self is the caller's account number, which the holder of a
	// document types into the approval form on their own account.
	Self int64
}

type documentRow struct {
	DocType, Number, Standing, StandingName string
}

type claimRow struct {
	ID                                          int64
	DocType, Number, Status, StatusName, Reason string
}

func standingName(l lang, s string) string {
	switch s {
	case "holder":
		return l.T("doc.standing.holder")
	case "approved":
		return l.T("doc.standing.approved")
	case "not_approved":
		return l.T("doc.standing.not_approved")
	}
	return l.T("doc.standing.unverified")
}

func claimStatusName(l lang, s governance.ClaimStatus) string {
	switch s {
	case governance.ClaimVerified:
		return l.T("doc.claim.verified")
	case governance.ClaimRejected:
		return l.T("doc.claim.rejected")
	case governance.ClaimRevoked:
		return l.T("doc.claim.revoked")
	}
	return l.T("doc.claim.pending")
}

// h5Documents handles GET /h5/documents.
func (c *Console) h5Documents(w http.ResponseWriter, r *http.Request, st *state) {
	c.showH5Documents(w, r, st, http.StatusOK, nil, h5DocumentsView{})
}

func (c *Console) showH5Documents(w http.ResponseWriter, r *http.Request, st *state, status int, alert *bilingual, d h5DocumentsView) {
	l := st.lang
	ctx, acct := r.Context(), st.principal.Account.ID
	docs, err := c.deps.Governance.PassengerList(ctx, acct)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	claims, err := c.deps.Governance.Claims(ctx, governance.ClaimFilter{AccountID: acct, Limit: 50})
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	for _, doc := range docs {
		d.Documents = append(d.Documents, documentRow{DocType: docTypeName(realname.DocType(doc.DocType), l), Number: realname.Passenger{DocType: realname.DocType(doc.DocType), DocNumber: doc.DocNumber}.Masked(),
			Standing: doc.Standing, StandingName: standingName(l, doc.Standing)})
	}
	for _, cl := range claims {
		d.Claims = append(d.Claims, claimRow{ID: cl.ID, DocType: docTypeName(realname.DocType(cl.DocType), l), Number: realname.Passenger{DocType: realname.DocType(cl.DocType), DocNumber: cl.DocNumber}.Masked(),
			Status: string(cl.Status), StatusName: claimStatusName(l, cl.Status), Reason: cl.Reason})
	}
	d.Self = acct
	for _, dt := range realname.DocTypes {
		d.DocTypes = append(d.DocTypes, docTypeOption{Value: string(dt), Label: docTypeName(dt, l)})
	}
	switch r.URL.Query().Get("done") {
	case "claimed":
		d.Notice = l.T("doc.done.claimed")
	case "approved":
		d.Notice = l.T("doc.done.approved")
	case "withdrawn":
		d.Notice = l.T("doc.done.withdrawn")
	}
	v := c.newViewBack(r, st, "doc.title", "/h5/documents")
	v.Error, v.Data = alert, d
	c.render(w, r, status, "h5_documents.html", v)
}

// documentsRefused shows a refusal above the page with the form kept, or
// the internal error page for a failure.
func (c *Console) documentsRefused(w http.ResponseWriter, r *http.Request, st *state, err error, d h5DocumentsView) {
	if fault.CodeOf(err) == fault.Internal {
		c.internalError(w, r, st, err)
		return
	}
	m := faultMsg(err)
	c.showH5Documents(w, r, st, statusOf(err), &m, d)
}

// h5DocumentClaim handles POST /h5/documents/claims (name, doc_type, doc_number).
func (c *Console) h5DocumentClaim(w http.ResponseWriter, r *http.Request, st *state) {
	d := h5DocumentsView{Name: r.PostFormValue("name"), DocType: r.PostFormValue("doc_type"), DocNumber: r.PostFormValue("doc_number")}
	if _, err := c.deps.Governance.ClaimDocument(r.Context(), st.principal.Account.ID, d.Name, d.DocType, d.DocNumber); err != nil {
		c.documentsRefused(w, r, st, err, d)
		return
	}
	http.Redirect(w, r, "/h5/documents?done=claimed", http.StatusSeeOther)
}

// h5DocumentApproval handles POST /h5/documents/claims/{id}/approvals
// (account, approved "1" or "0"): the holder of the verified claim {id}
// approves another account, or withdraws the approval.
func (c *Console) h5DocumentApproval(w http.ResponseWriter, r *http.Request, st *state) {
	d := h5DocumentsView{Account: r.PostFormValue("account")}
	claim, ok := orderID(r)
	if !ok {
		c.renderError(w, r, st, http.StatusNotFound, faultMsg(governance.ErrClaimNotFound))
		return
	}
	account, err := strconv.ParseInt(d.Account, 10, 64)
	if err != nil || account <= 0 {
		c.documentsRefused(w, r, st, fault.New(fault.Invalid, "bad_account", "请填写要同意的账号编号", "give the number of the account to approve"), d)
		return
	}
	approved := r.PostFormValue("approved") != "0"
	if err := c.deps.Governance.Approve(r.Context(), st.principal.Account.ID, claim, account, approved); err != nil {
		c.documentsRefused(w, r, st, err, d)
		return
	}
	done := "approved"
	if !approved {
		done = "withdrawn"
	}
	http.Redirect(w, r, "/h5/documents?done="+done, http.StatusSeeOther)
}
