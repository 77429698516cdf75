-- +goose Up
-- The built-in sandbox payment gateway (package payment/sandbox): its
-- payments, refunds and the outbox of notifications to deliver.
CREATE TABLE sandbox_payments (
    id           TEXT PRIMARY KEY,
    order_ref    TEXT NOT NULL,
    amount_fen   INTEGER NOT NULL CHECK (amount_fen > 0),
    refunded_fen INTEGER NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0 AND refunded_fen <= amount_fen),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed', 'closed')),
    subject      TEXT NOT NULL DEFAULT '',
    notify_url   TEXT NOT NULL,
    return_url   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    paid_at      TEXT
);
-- At most one open (pending or paid) payment per merchant order.
CREATE UNIQUE INDEX sandbox_payments_open ON sandbox_payments (order_ref) WHERE status IN ('pending', 'paid');

CREATE TABLE sandbox_refunds (
    id         TEXT PRIMARY KEY, -- the caller's idempotency ID
    payment_id TEXT NOT NULL REFERENCES sandbox_payments (id),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    status     TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX sandbox_refunds_payment ON sandbox_refunds (payment_id);

-- One row per notification: delivered at least once, retried with backoff.
CREATE TABLE sandbox_outbox (
    id              TEXT PRIMARY KEY, -- the notification's ID
    payment_id      TEXT NOT NULL REFERENCES sandbox_payments (id),
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_until     TEXT,
    delivered_at    TEXT,
    gave_up_at      TEXT,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sandbox_outbox_due ON sandbox_outbox (next_attempt_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL;
CREATE INDEX sandbox_outbox_payment ON sandbox_outbox (payment_id);

-- +goose Down
DROP TABLE sandbox_outbox;
DROP TABLE sandbox_refunds;
DROP TABLE sandbox_payments;
