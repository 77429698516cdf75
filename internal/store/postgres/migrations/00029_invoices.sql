-- +goose Up
-- Invoices (issue 24 item 5): one per business event and kind, blue
-- (normal) or red (reversing a blue one), made out to a merchant
-- (merchant_id) or a passenger account (account_id). Their lines are JSON
-- in items; an invoice never changes once issued (triggers).

CREATE TABLE invoices (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number       TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL CHECK (kind IN ('blue', 'red')),
    ref          TEXT COLLATE "C" NOT NULL,
    reverses     TEXT NOT NULL DEFAULT '',
    reverses_ref TEXT NOT NULL DEFAULT '',
    buyer        TEXT NOT NULL,
    merchant_id  BIGINT CHECK (merchant_id > 0),
    account_id   BIGINT CHECK (account_id > 0),
    buyer_name   TEXT NOT NULL,
    buyer_tax    TEXT NOT NULL DEFAULT '',
    seller_name  TEXT NOT NULL,
    seller_tax   TEXT NOT NULL DEFAULT '',
    items        TEXT NOT NULL,
    total_fen    BIGINT NOT NULL,
    tax_rate_bp  BIGINT NOT NULL,
    tax_fen      BIGINT NOT NULL,
    issued_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (kind, ref),
    CHECK ((merchant_id IS NULL) <> (account_id IS NULL)),
    CHECK ((kind = 'red') = (reverses <> ''))
);
CREATE INDEX invoices_merchant ON invoices (merchant_id, id) WHERE merchant_id IS NOT NULL;
CREATE INDEX invoices_account ON invoices (account_id, id) WHERE account_id IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION invoices_never_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'invoices are never changed once issued' USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER invoices_no_change BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_never_change();
CREATE TRIGGER invoices_no_truncate BEFORE TRUNCATE ON invoices
    FOR EACH STATEMENT EXECUTE FUNCTION invoices_never_change();

-- The last serial given in each issue year (Asia/Shanghai), taken in the
-- transaction that stores the invoice: numbers are unique and gapless.
CREATE TABLE invoice_serials (
    year INTEGER PRIMARY KEY,
    last BIGINT NOT NULL
);

-- Business events invoiced in several parts (a campaign refund: one red
-- invoice per purchase it paid back) whose parts were all issued.
CREATE TABLE invoice_sources (
    source  TEXT PRIMARY KEY,
    done_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE invoice_sources;
DROP TABLE invoice_serials;
DROP TABLE invoices;
DROP FUNCTION invoices_never_change();
