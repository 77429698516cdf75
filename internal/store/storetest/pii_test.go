package storetest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // raw access to the test database

	"piao/internal/behaviour"
	"piao/internal/benefits"
	"piao/internal/booking"
	"piao/internal/distribution"
	"piao/internal/governance"
	"piao/internal/idempotency"
	"piao/internal/identity"
	"piao/internal/merchant"
	"piao/internal/store"
	"piao/internal/store/open"
	"piao/internal/store/sealed"
	"piao/internal/store/sqlrow"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// The personal data the tests store; none may appear in the raw database.
const (
	piiDoc      = "360102199001011234"
	piiWaitDoc  = "360102199202023456"
	piiPhone    = "13812345678"
	piiDocShort = "199001011234" // a long tail of the number, in case it were stored cut
)

// piiPaper is a merchant's paper holding its legal representative's ID
// card number and phone, as a scanned ID card's text layer would.
var piiPaper = []byte("%PDF-1.4\n% 法定代表人身份证 / legal representative's ID card\nBT (" + piiDoc + ") Tj (" + piiPhone + ") Tj ET\n%%EOF\n")

// piiStoreEverything stores a document number and a phone everywhere they
// go: an account with a phone, an order (cancelled), day counts, a list
// membership, a waitlist entry, a stored idempotent answer, the
// document's ownership (on account 1's passenger list with its counts,
// claimed and verified by the phoned account, whose passenger list it
// joins, and claimed by account 1, pending), a merchant's paper holding
// both, and a merchant's distribution list naming the phone.
func piiStoreEverything(t *testing.T, s storetest.Stores) {
	t.Helper()
	ctx := context.Background()
	acct := bkSetUp(t, s, 1)[0]
	phoned, err := s.Identity.CreateAccount(ctx, identity.Account{Username: "phoned", Phone: piiPhone, DisplayName: "手机", Role: identity.Passenger, PasswordHash: "x", CreatedAt: bkT0})
	if err != nil {
		t.Fatal(err)
	}
	bkCreateTrain(t, s, bkZ66)
	o := bkOrder(acct, bkZ66, booking.Held, bkT0, piiDoc)
	o.Tickets[0].DocType, o.Tickets[0].PassengerName = "id_card", "张三"
	if err := bkInsert(ctx, s, &o); err != nil {
		t.Fatal(err)
	}
	o.Status, o.Tickets[0].Status = booking.Cancelled, booking.Cancelled
	subject := governance.DocumentSubject("id_card", piiDoc)
	err = s.Booking.Update(ctx, func(tx booking.Tx) error {
		if err := tx.SetOrder(o); err != nil {
			return err
		}
		if err := tx.LinkDocument(acct, "id_card", piiDoc, bkT0); err != nil {
			return err
		}
		if err := tx.AddDocumentDayCounts("id_card", piiDoc, acct, bkZ66.Date, 1, 0); err != nil {
			return err
		}
		_, err := tx.AddDayCounts(subject, bkZ66.Date, 1, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	holder := governance.Claim{AccountID: phoned.ID, DocType: "id_card", DocNumber: piiDoc, Name: "张三", Status: governance.ClaimPending, CreatedAt: bkT0}
	if err := s.Governance.AddClaim(ctx, &holder); err != nil {
		t.Fatal(err)
	}
	decided := bkT0.Add(time.Minute)
	holder.Status, holder.DecidedAt, holder.DecidedBy, holder.Reason = governance.ClaimVerified, &decided, "op", "证件照片 / ID photo"
	if ok, err := s.Governance.DecideClaim(ctx, governance.ClaimPending, holder); err != nil || !ok {
		t.Fatalf("verify the claim: %v, %v", ok, err)
	}
	pending := governance.Claim{AccountID: acct, DocType: "id_card", DocNumber: piiDoc, Name: "张三", Status: governance.ClaimPending, CreatedAt: decided}
	if err := s.Governance.AddClaim(ctx, &pending); err != nil {
		t.Fatal(err)
	}
	m := govMember(governance.Restricted, subject, governance.ByRule, time.Hour)
	m.Reason = "3 次取消 / 3 cancels"
	if err := s.Governance.AddMember(ctx, &m, govAudit("add", bkT0)); err != nil {
		t.Fatal(err)
	}
	e := wlEntry(acct, booking.WaitUnpaid, 0, bkZ66)
	e.Passengers[0].DocNumber = piiWaitDoc
	wlInsert(t, s, &e)
	r := idempotency.Record{Scope: "account:1", Key: "k", Method: "POST", Path: "/api/v1/orders", BodyHash: "h"}
	if _, _, err := s.Idempotency.Claim(ctx, r, bkT0); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"tickets":[{"doc_number":"` + piiDoc + `"}]}`)
	if err := s.Idempotency.Complete(ctx, r.Scope, r.Key, idempotency.Response{Status: 201, ContentType: "application/json", Body: body}); err != nil {
		t.Fatal(err)
	}
	_, err = s.DB.Merchant().CreateMerchant(ctx, mcMerchant("91350100M000100Y43", "madmin"), []merchant.Paper{mcPaper(t, merchant.Licence, "法人身份证.pdf", piiPaper)},
		[]byte("tok"), merchant.Event{At: mcT0, Actor: "applicant", To: merchant.Applied})
	if err != nil {
		t.Fatal(err)
	}
	c := dsCampaign(t, s, 3, 1, benefits.DirectChannel)
	l := distribution.List{MerchantID: dsMerchant.MerchantID(), CampaignID: c.ID, Kind: distribution.ByPhone, UploadedBy: "account:70", UploadedAt: bnT0}
	if err := s.Distribution.CreateList(ctx, &l, []distribution.Entry{{Line: 2, Account: phoned.ID, Phone: piiPhone, Note: "vip"}}); err != nil {
		t.Fatal(err)
	}
}

// piiMerchantReadsBack checks that the merchant's paper and the
// distribution list piiStoreEverything stored read back plain.
func piiMerchantReadsBack(t *testing.T, s storetest.Stores) {
	t.Helper()
	ctx := context.Background()
	ms, err := s.DB.Merchant().Merchants(ctx, tenant.All(), merchant.Filter{})
	if err != nil || len(ms) != 1 {
		t.Fatalf("merchants %+v, %v", ms, err)
	}
	ps, err := s.DB.Merchant().Papers(ctx, tenant.All(), ms[0].ID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("papers %+v, %v", ps, err)
	}
	p, err := s.DB.Merchant().Paper(ctx, tenant.Merchant(ms[0].ID), ms[0].ID, ps[0].ID)
	sum := sha256.Sum256(piiPaper)
	if err != nil || !bytes.Equal(p.Data, piiPaper) || p.Size != len(piiPaper) || p.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("paper read back: %q (size %d, sha256 %s), %v", p.Data, p.Size, p.SHA256, err)
	}
	ls, err := s.Distribution.Lists(ctx, dsMerchant, 0)
	if err != nil || len(ls) != 1 {
		t.Fatalf("distribution lists %+v, %v", ls, err)
	}
	es, err := s.Distribution.Entries(ctx, dsMerchant, ls[0].ID)
	if err != nil || len(es) != 1 || es[0].Phone != piiPhone {
		t.Fatalf("distribution entries read back: %+v, %v", es, err)
	}
}

// piiReadsBack checks that the stores still answer with the plain values
// and find them by them.
func piiReadsBack(t *testing.T, s storetest.Stores) {
	t.Helper()
	ctx := context.Background()
	a, err := s.Identity.AccountByLogin(ctx, piiPhone)
	if err != nil || a.Phone != piiPhone || a.Username != "phoned" {
		t.Fatalf("login by phone: %+v, %v", a, err)
	}
	os, err := s.Booking.OrdersOf(ctx, 1, 10)
	if err != nil || len(os) != 1 || os[0].Tickets[0].DocNumber != piiDoc {
		t.Fatalf("orders read back: %+v, %v", os, err)
	}
	if n, err := s.Booking.BerthCancels(ctx, "id_card", piiDoc, bkZ66); err != nil || n != 1 {
		t.Fatalf("BerthCancels = %d, %v; want 1 (the cancelled berth found by its document)", n, err)
	}
	subject := governance.DocumentSubject("id_card", piiDoc)
	counts, err := s.Governance.DayCounts(ctx, bkZ66.Date, []string{subject, "account:1"})
	if err != nil || counts[subject].Manual != 1 {
		t.Fatalf("DayCounts = %v, %v", counts, err)
	}
	ms, err := s.Governance.Members(ctx, governance.MemberFilter{Subject: subject})
	if err != nil || len(ms) != 1 || ms[0].Subject != subject {
		t.Fatalf("Members by subject = %+v, %v", ms, err)
	}
	var passengers []string
	err = s.Governance.Transactions(ctx, bkT0.Add(-time.Hour), bkT0.Add(time.Hour), "", func(tx behaviour.Transaction) error {
		passengers = append(passengers, tx.Passenger)
		return nil
	})
	if err != nil || len(passengers) != 1 || passengers[0] != "id_card:"+piiDoc {
		t.Fatalf("Transactions' passengers = %v, %v", passengers, err)
	}
	es, err := s.Booking.WaitlistOf(ctx, 1, 10)
	if err != nil || len(es) != 1 || es[0].Passengers[0].DocNumber != piiWaitDoc {
		t.Fatalf("waitlist read back: %+v, %v", es, err)
	}
	piiOwnershipReadsBack(t, s, a.ID)
	piiMerchantReadsBack(t, s)
}

// piiOwnershipReadsBack checks that the document's ownership (as
// piiStoreEverything stored it, phoned its verified holder) reads back
// with the plain number and is found by it.
func piiOwnershipReadsBack(t *testing.T, s storetest.Stores, phoned int64) {
	t.Helper()
	ctx := context.Background()
	g := s.Governance
	own, err := g.Ownership(ctx, "id_card", piiDoc)
	if err != nil || own.Holder != phoned || len(own.Approved) != 0 {
		t.Fatalf("Ownership = %+v, %v; want holder %d", own, err, phoned)
	}
	verified, err := g.VerifiedDocuments(ctx)
	if err != nil || len(verified) != 1 || verified["id_card:"+piiDoc].Holder != phoned {
		t.Fatalf("VerifiedDocuments = %+v, %v", verified, err)
	}
	by, err := g.DocumentDayCounts(ctx, bkZ66.Date, "id_card", piiDoc)
	if err != nil || len(by) != 1 || by[1].Manual != 1 {
		t.Fatalf("DocumentDayCounts = %v, %v; want account 1: 1 manual", by, err)
	}
	for acct, standing := range map[int64]int64{1: phoned, phoned: phoned} {
		docs, err := g.AccountDocuments(ctx, acct)
		if err != nil || len(docs) != 1 || docs[0].DocNumber != piiDoc || docs[0].Holder != standing || docs[0].Approved != (acct == phoned) {
			t.Fatalf("passenger list of account %d = %+v, %v", acct, docs, err)
		}
	}
	cs, err := g.Claims(ctx, governance.ClaimFilter{})
	if err != nil || len(cs) != 2 {
		t.Fatalf("Claims = %+v, %v", cs, err)
	}
	for _, c := range cs {
		if c.DocNumber != piiDoc || c.DocType != "id_card" {
			t.Errorf("claim %d read back as %s:%s", c.ID, c.DocType, c.DocNumber)
		}
		if one, err := g.Claim(ctx, c.ID); err != nil || one.DocNumber != piiDoc {
			t.Errorf("Claim(%d) = %+v, %v", c.ID, one, err)
		}
	}
	if cs[0].Status != governance.ClaimPending || cs[1].Status != governance.ClaimVerified {
		t.Errorf("claims' statuses %s, %s; want pending, verified", cs[0].Status, cs[1].Status)
	}
	// The unique rule still holds on the stored form: a second verified
	// holder of the number is refused.
	pending := cs[0]
	now := bkT0.Add(time.Hour)
	pending.Status, pending.DecidedAt = governance.ClaimVerified, &now
	if _, err := g.DecideClaim(ctx, governance.ClaimPending, pending); !errors.Is(err, governance.ErrAlreadyVerified) {
		t.Errorf("verifying a second holder: %v, want ErrAlreadyVerified", err)
	}
	rec, claimed, err := s.Idempotency.Claim(ctx, idempotency.Record{Scope: "account:1", Key: "k", Method: "POST", Path: "/api/v1/orders", BodyHash: "h"}, bkT0.Add(time.Minute))
	if err != nil || claimed || !bytes.Contains(rec.Response.Body, []byte(piiDoc)) {
		t.Fatalf("stored answer read back: %q, %v, %v", rec.Response.Body, claimed, err)
	}
}

// rawDatabase returns every byte of the database as stored: the SQLite
// file and its WAL, or every row of every PostgreSQL table as text.
func rawDatabase(t *testing.T, db store.Engine) []byte {
	t.Helper()
	if db.Name() == "sqlite" {
		var all []byte
		for _, f := range []string{db.Where(), db.Where() + "-wal"} {
			b, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		if len(all) == 0 {
			t.Fatal("read nothing of the SQLite database")
		}
		return all
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, db.Where()) // the test server's URL has no password to hide
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 10 {
		t.Fatalf("tables %v, %v", tables, err)
	}
	var all bytes.Buffer
	for _, tb := range tables {
		rows, err := c.Query(ctx, `SELECT t::text FROM `+pgx.Identifier{tb}.Sanitize()+` t`)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			all.WriteString(s + "\n")
		}
	}
	// A row as text shows bytea in hex, where no plain number would be
	// found: add every bytea column's bytes as they are.
	rows, err = c.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'bytea'`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Table, Column string }])
	if err != nil || len(cols) == 0 {
		t.Fatalf("bytea columns %v, %v", cols, err)
	}
	for _, col := range cols {
		rows, err := c.Query(ctx, `SELECT `+pgx.Identifier{col.Column}.Sanitize()+` FROM `+pgx.Identifier{col.Table}.Sanitize())
		if err != nil {
			t.Fatal(err)
		}
		values, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			all.Write(v)
			all.WriteByte('\n')
		}
	}
	return all.Bytes()
}

// wantNoPlain fails if the raw database shows any of the personal values.
func wantNoPlain(t *testing.T, raw []byte) {
	t.Helper()
	for _, v := range []string{piiDoc, piiWaitDoc, piiPhone, piiDocShort} {
		if i := bytes.Index(raw, []byte(v)); i >= 0 {
			t.Errorf("the raw database holds %s in plain text: …%q…", v, raw[max(0, i-60):min(len(raw), i+40)])
		}
	}
}

// TestPersonalDataEncryptedAtRest stores a document number and a phone
// everywhere they go, reads them back through the stores, and finds
// neither in the raw database; a database opened with another key cannot
// read them.
func TestPersonalDataEncryptedAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		piiStoreEverything(t, s)
		piiReadsBack(t, s)
		raw := rawDatabase(t, s.DB)
		wantNoPlain(t, raw)
		if !bytes.Contains(raw, []byte("pii1:1:")) {
			t.Error("the raw database holds no sealed value: is the test reading the right database?")
		}
		other := reopen(t, s.DB, sealed.Generate())
		if _, err := other.Booking().OrdersOf(context.Background(), 1, 10); err == nil {
			t.Error("another key read the orders")
		}
	})
}

// TestPersonalDataRotation rotates the key: every sealed value is sealed
// again with the new key, in batches with progress, and a keyring holding
// the new key only reads everything back.
func TestPersonalDataRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		piiStoreEverything(t, s)
		rotated := s.Keys.Rotated()
		db := reopen(t, s.DB, rotated)
		var tables []string
		n, err := db.Reseal(context.Background(), func(table string, done int) { tables = append(tables, table) })
		if err != nil {
			t.Fatal(err)
		}
		// A ticket, an account's phone, a membership, a waitlist entry, a
		// stored answer, two passenger-list entries, two claims, a
		// merchant's contact phone and paper, and a distribution list's
		// phone (document counts hold the index alone, which a rotation
		// keeps).
		if n != 12 {
			t.Errorf("Reseal rewrote %d values, want 12", n)
		}
		if len(tables) < 5 {
			t.Errorf("progress came for %v only", tables)
		}
		if again, err := db.Reseal(context.Background(), nil); err != nil || again != 0 {
			t.Errorf("a second Reseal rewrote %d values (%v), want 0", again, err)
		}
		raw := rawDatabase(t, s.DB)
		wantNoPlain(t, raw)
		if bytes.Contains(raw, []byte("pii1:1:")) {
			t.Errorf("a value is still sealed with the old key: …%s…", raw[bytes.Index(raw, []byte("pii1:1:")):][:40])
		}
		retired := reopen(t, s.DB, rotated.Retired())
		piiReadsBack(t, storetest.Stores{DB: retired, Engine: retired.Name(), Identity: retired.Identity(), Booking: retired.Booking(),
			Governance: retired.Governance(), Idempotency: retired.Idempotency(), Distribution: retired.Distribution()})
	})
}

// TestPersonalDataRotationPages rotates tables larger than a batch: the
// papers (a few per batch) and the distribution lines (paged by list and
// line) are all sealed again, none skipped at a batch's edge.
func TestPersonalDataRotationPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		phoned, err := s.Identity.CreateAccount(ctx, identity.Account{Username: "phoned", Phone: piiPhone, DisplayName: "手机", Role: identity.Passenger, PasswordHash: "x", CreatedAt: bkT0})
		if err != nil {
			t.Fatal(err)
		}
		papers := make([]merchant.Paper, sqlrow.ResealFileBatch+2)
		for i := range papers {
			papers[i] = mcPaper(t, merchant.OtherPaper, fmt.Sprintf("%d.pdf", i), append(slices.Clone(piiPaper), fmt.Sprintf("%% %d\n", i)...))
		}
		m, err := s.DB.Merchant().CreateMerchant(ctx, mcMerchant("91350100M000100Y43", "madmin"), papers, []byte("tok"), merchant.Event{At: mcT0, To: merchant.Applied})
		if err != nil {
			t.Fatal(err)
		}
		c := dsCampaign(t, s, 3, 1, benefits.DirectChannel)
		var lists []int64
		for _, lines := range []int{sqlrow.ResealBatch + 1, 2} {
			l := distribution.List{MerchantID: dsMerchant.MerchantID(), CampaignID: c.ID, Kind: distribution.ByPhone, UploadedBy: "account:70", UploadedAt: bnT0}
			es := make([]distribution.Entry, lines)
			for i := range es {
				es[i] = distribution.Entry{Line: i + 2, Account: phoned.ID, Phone: piiPhone}
			}
			if err := s.Distribution.CreateList(ctx, &l, es); err != nil {
				t.Fatal(err)
			}
			lists = append(lists, l.ID)
		}
		rotated := s.Keys.Rotated()
		db := reopen(t, s.DB, rotated)
		batches := map[string]int{}
		n, err := db.Reseal(ctx, func(table string, done int) { batches[table]++ })
		if err != nil {
			t.Fatal(err)
		}
		// The account's phone, the contact's, the papers and the lines.
		if want := 2 + len(papers) + sqlrow.ResealBatch + 3; n != want {
			t.Errorf("Reseal rewrote %d values, want %d", n, want)
		}
		if batches["merchant_papers"] < 2 || batches["distribution_entries"] < 2 {
			t.Errorf("batches %v: the papers and the lines should take more than one each", batches)
		}
		retired := reopen(t, s.DB, rotated.Retired())
		for _, p := range papers {
			got, err := retired.Merchant().Paper(ctx, tenant.All(), m.ID, p.ID)
			if err != nil || !bytes.Equal(got.Data, p.Data) {
				t.Fatalf("paper %d after rotation: %v", p.ID, err)
			}
		}
		for i, id := range lists {
			es, err := retired.Distribution().Entries(ctx, dsMerchant, id)
			if err != nil || len(es) != []int{sqlrow.ResealBatch + 1, 2}[i] {
				t.Fatalf("list %d after rotation: %d lines, %v", id, len(es), err)
			}
			for _, e := range es {
				if e.Phone != piiPhone {
					t.Fatalf("list %d line %d after rotation: %q", id, e.Line, e.Phone)
				}
			}
		}
	})
}

// reopen opens a second engine on db's database with other keys.
func reopen(t *testing.T, db store.Engine, keys *sealed.Keyring) store.Engine {
	t.Helper()
	database, dir := db.Where(), ""
	if db.Name() == "sqlite" {
		database, dir = "", filepath.Dir(db.Where())
	}
	if !strings.Contains(database, "://") && database != "" {
		t.Fatalf("cannot reopen %s", database)
	}
	o, err := open.Engine(context.Background(), database, dir, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// rawExec runs statements on db's database outside the stores.
func rawExec(t *testing.T, db store.Engine, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	if db.Name() == "sqlite" {
		c, err := sql.Open("sqlite", "file:"+db.Where()+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, s := range stmts {
			if _, err := c.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		return
	}
	c, err := pgx.Connect(ctx, db.Where())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, s := range stmts {
		if _, err := c.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestPersonalDataLegacyRowsSealed stores rows as a database from before
// encryption held them (numbers in plain text): a rotation seals them all,
// and the stores find them afterwards.
func TestPersonalDataLegacyRowsSealed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		piiStoreEverything(t, s)
		ctx := context.Background()
		es, err := s.Booking.WaitlistOf(ctx, 1, 1)
		if err != nil || len(es) != 1 {
			t.Fatal(es, err)
		}
		plainBody, err := booking.EncodeWaitlist(es[0])
		if err != nil {
			t.Fatal(err)
		}
		rawExec(t, s.DB,
			`UPDATE tickets SET doc_number = '`+piiDoc+`', doc_sealed = ''`,
			`UPDATE accounts SET phone = '`+piiPhone+`', phone_sealed = '' WHERE username = 'phoned'`,
			`UPDATE list_members SET subject = 'doc:id_card:`+piiDoc+`', subject_sealed = ''`,
			`DELETE FROM governance_counts`,
			`INSERT INTO governance_counts (subject, day, manual, expired) VALUES ('doc:id_card:`+piiDoc+`', '`+bkZ66.Date.String()+`', 1, 0)`,
			`UPDATE waitlist_entries SET body = '`+strings.ReplaceAll(plainBody, "'", "''")+`'`,
			`UPDATE idempotency_keys SET resp_body = '{"doc_number":"`+piiDoc+`"}'`,
			`UPDATE account_documents SET doc_number = '`+piiDoc+`', doc_sealed = ''`,
			`UPDATE document_claims SET doc_number = '`+piiDoc+`', doc_sealed = ''`,
			`UPDATE document_counts SET doc_number = '`+piiDoc+`'`,
			`UPDATE merchant_papers SET data = '`+strings.ReplaceAll(string(piiPaper), "'", "''")+`'`, // papers were stored plain on the day they came
		)
		if raw := rawDatabase(t, s.DB); !bytes.Contains(raw, []byte(piiDoc)) {
			t.Fatal("the legacy rows did not go in")
		}
		piiMerchantReadsBack(t, s) // a paper stored plain reads as it is
		n, err := s.DB.Reseal(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		// A ticket, a phone, a membership, a waitlist entry, a stored answer,
		// a day count, two passenger-list entries, two claims, a document
		// count and a merchant's paper.
		if n != 12 {
			t.Errorf("Reseal sealed %d legacy values, want 12", n)
		}
		wantNoPlain(t, rawDatabase(t, s.DB))
		rawExec(t, s.DB, `UPDATE idempotency_keys SET resp_body = '{"tickets":[{"doc_number":"`+piiDoc+`"}]}'`) // as piiReadsBack expects, then seal again
		if _, err := s.DB.Reseal(ctx, nil); err != nil {
			t.Fatal(err)
		}
		piiReadsBack(t, s)
	})
}

// TestDocumentOwnershipLegacyRowsMerged upgrades a passenger list and
// document counts stored before encryption after the service has written
// the same document again (under its index): a rotation merges the two,
// one passenger-list entry (the earlier date, the approval kept) and the
// counts added.
func TestDocumentOwnershipLegacyRowsMerged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acct := bkSetUp(t, s, 1)[0]
		link := func(at time.Time) {
			t.Helper()
			err := s.Booking.Update(ctx, func(tx booking.Tx) error {
				if err := tx.LinkDocument(acct, "id_card", piiDoc, at); err != nil {
					return err
				}
				return tx.AddDocumentDayCounts("id_card", piiDoc, acct, bkZ66.Date, 1, 1)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		link(bkT0)
		approved := bkT0.Add(time.Minute)
		if err := s.Governance.SetApproval(ctx, acct, "id_card", piiDoc, &approved); err != nil {
			t.Fatal(err)
		}
		rawExec(t, s.DB, // as stored before encryption
			`UPDATE account_documents SET doc_number = '`+piiDoc+`', doc_sealed = ''`,
			`UPDATE document_counts SET doc_number = '`+piiDoc+`'`)
		link(bkT0.Add(time.Hour)) // the service writes the document again, before the rotation
		n, err := s.DB.Reseal(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("Reseal sealed %d legacy values, want 2 (a passenger-list entry and a count)", n)
		}
		wantNoPlain(t, rawDatabase(t, s.DB))
		docs, err := s.Governance.AccountDocuments(ctx, acct)
		if err != nil || len(docs) != 1 || docs[0].DocNumber != piiDoc || !docs[0].AddedAt.Equal(bkT0) || !docs[0].Approved {
			t.Fatalf("passenger list %+v, %v; want the one entry, added at %v, approved", docs, err, bkT0)
		}
		by, err := s.Governance.DocumentDayCounts(ctx, bkZ66.Date, "id_card", piiDoc)
		if want := (governance.Counts{Manual: 2, Expired: 2}); err != nil || by[acct] != want {
			t.Fatalf("counts %v, %v; want %v", by, err, want)
		}
	})
}
