package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/store/sqlrow"
)

// Ledger returns the journal's store.
func (db *DB) Ledger() ledger.Store { return &ledgerStore{db} }

// ledgerStore implements ledger.Store on SQLite.
type ledgerStore struct{ *DB }

var _ ledger.Store = (*ledgerStore)(nil)

// Post stores an entry in a transaction of its own.
func (s *ledgerStore) Post(ctx context.Context, e ledger.Entry) (ledger.Entry, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = postEntry(ctx, tx, e)
		return err
	})
	return e, err
}

// postEntry posts an entry inside the caller's transaction: the one way
// every SQLite store writes the journal, so an entry lands with the
// business change it records or not at all. A key posted already returns
// the stored entry when it is the same, ErrKeyReused otherwise.
func postEntry(ctx context.Context, tx *sql.Tx, e ledger.Entry) (ledger.Entry, error) {
	if err := e.Check(); err != nil {
		return e, err
	}
	if e.PostedAt.IsZero() {
		e.PostedAt = e.At
	}
	if e.Reverses != 0 {
		var of sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT reverses FROM journal_entries WHERE id = ?`, e.Reverses).Scan(&of)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return e, ledger.ErrNotFound
		case err != nil:
			return e, fault.Wrap(err, "read reversed entry")
		case of.Valid:
			return e, ledger.ErrReverseOfRev
		}
	}
	var reverses sql.NullInt64
	if e.Reverses != 0 {
		reverses = sql.NullInt64{Int64: e.Reverses, Valid: true}
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO journal_entries (key, kind, ref, external, at, posted_at, memo, reverses)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id`,
		e.Key, e.Kind, e.Ref, e.External, sqlrow.At(e.At), sqlrow.At(e.PostedAt), e.Memo, reverses).Scan(&e.ID)
	if errors.Is(err, sql.ErrNoRows) { // the event is posted already
		stored, err := entryByKey(ctx, tx, e.Key)
		if err != nil {
			return e, err
		}
		if !ledger.Same(stored, e) {
			return e, ledger.ErrKeyReused
		}
		return stored, nil
	}
	if v, _ := violation(err); v == sqlrow.Unique {
		return e, ledger.ErrReversed
	}
	if err != nil {
		return e, fault.Wrap(err, "insert journal entry")
	}
	for i, p := range e.Postings {
		if _, err := tx.ExecContext(ctx, `INSERT INTO journal_postings (entry_id, line, account, party, debit, credit) VALUES (?, ?, ?, ?, ?, ?)`,
			e.ID, i+1, p.Account, p.Party, p.Debit, p.Credit); err != nil {
			return e, fault.Wrap(err, "insert journal posting")
		}
	}
	for _, b := range sqlrow.BalanceChanges(e.Postings) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_balances (account, party, debit, credit) VALUES (?, ?, ?, ?)
			ON CONFLICT (account, party) DO UPDATE SET debit = debit + excluded.debit, credit = credit + excluded.credit`,
			b.Account, b.Party, b.Debit, b.Credit); err != nil {
			return e, fault.Wrap(err, "update ledger balance")
		}
	}
	return e, nil
}

// Entry returns an entry with its postings.
func (s *ledgerStore) Entry(ctx context.Context, id int64) (ledger.Entry, error) {
	var e ledger.Entry
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		es, err := entriesWithPostings(ctx, tx, `SELECT `+sqlrow.JournalEntryColumns+` FROM journal_entries WHERE id = ?`, id)
		if err == nil && len(es) == 0 {
			err = ledger.ErrNotFound
		}
		if err == nil {
			e = es[0]
		}
		return err
	})
	return e, err
}

// EntryByKey returns the entry of a business event.
func (s *ledgerStore) EntryByKey(ctx context.Context, key string) (ledger.Entry, error) {
	var e ledger.Entry
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = entryByKey(ctx, tx, key)
		return err
	})
	return e, err
}

func entryByKey(ctx context.Context, tx *sql.Tx, key string) (ledger.Entry, error) {
	es, err := entriesWithPostings(ctx, tx, `SELECT `+sqlrow.JournalEntryColumns+` FROM journal_entries WHERE key = ?`, key)
	if err != nil {
		return ledger.Entry{}, err
	}
	if len(es) == 0 {
		return ledger.Entry{}, ledger.ErrNotFound
	}
	return es[0], nil
}

// entriesWithPostings runs an entries query and reads their postings.
func entriesWithPostings(ctx context.Context, q querier, query string, args ...any) ([]ledger.Entry, error) {
	es, err := list(ctx, q, "list journal entries", sqlrow.ScanJournalEntry, query, args...)
	if err != nil || len(es) == 0 {
		return es, err
	}
	ids := make([]any, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	ps, err := list(ctx, q, "list journal postings", sqlrow.ScanJournalPosting,
		`SELECT `+sqlrow.JournalPostingColumns+` FROM journal_postings WHERE entry_id IN (?`+strings.Repeat(`, ?`, len(ids)-1)+`) ORDER BY entry_id, line`, ids...)
	if err != nil {
		return nil, err
	}
	sqlrow.AttachPostings(es, ps)
	return es, nil
}

// Entries returns the entries matching f, newest first.
func (s *ledgerStore) Entries(ctx context.Context, f ledger.Filter) ([]ledger.Entry, error) {
	f = f.Bounded()
	q := `SELECT ` + sqlrow.JournalEntryColumns + ` FROM journal_entries e WHERE 1 = 1`
	var args []any
	if f.Account != "" || f.Party != "" {
		q += ` AND EXISTS (SELECT 1 FROM journal_postings p WHERE p.entry_id = e.id`
		if f.Account != "" {
			q += ` AND p.account = ?`
			args = append(args, f.Account)
		}
		if f.Party != "" {
			q += ` AND p.party = ?`
			args = append(args, f.Party)
		}
		q += `)`
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.Ref != "" {
		q += ` AND ref = ?`
		args = append(args, f.Ref)
	}
	if !f.From.IsZero() {
		q += ` AND at >= ?`
		args = append(args, sqlrow.At(f.From))
	}
	if !f.Until.IsZero() {
		q += ` AND at < ?`
		args = append(args, sqlrow.At(f.Until))
	}
	if f.BeforeID > 0 {
		q += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	var es []ledger.Entry
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		es, err = entriesWithPostings(ctx, tx, q, args...)
		return err
	})
	return es, err
}

// Balances returns the stored balances, of one party when party is set.
func (s *ledgerStore) Balances(ctx context.Context, party string) ([]ledger.Balance, error) {
	if party != "" {
		return list(ctx, s.read, "list ledger balances", sqlrow.ScanBalance,
			`SELECT `+sqlrow.BalanceColumns+` FROM ledger_balances WHERE party = ? ORDER BY account, party`, party)
	}
	return list(ctx, s.read, "list ledger balances", sqlrow.ScanBalance,
		`SELECT `+sqlrow.BalanceColumns+` FROM ledger_balances ORDER BY account, party`)
}

// Verify runs sqlrow.LedgerChecks in one read snapshot.
func (s *ledgerStore) Verify(ctx context.Context) ([]ledger.Problem, error) {
	var problems []ledger.Problem
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		for _, c := range sqlrow.LedgerChecks {
			found, err := list(ctx, tx, "ledger check "+c.Check, sqlrow.ScanLedgerProblem(c.Check), c.Query)
			if err != nil {
				return err
			}
			problems = append(problems, found...)
		}
		return nil
	})
	return problems, err
}
