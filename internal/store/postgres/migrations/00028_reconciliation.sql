-- +goose Up
-- Reconciliation (issue 24): the sandbox charges a fee on every payment at
-- the rate it was made at (fee_bp, basis points; payments made before this
-- migration charged none), and each reconciliation run of a day is kept
-- with every difference it found. A run is never changed: running the day
-- again adds a run.
ALTER TABLE sandbox_payments ADD COLUMN fee_bp BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sandbox_payments_paid_at ON sandbox_payments (paid_at) WHERE paid_at IS NOT NULL;
CREATE INDEX sandbox_refunds_at ON sandbox_refunds (at);

CREATE TABLE reconcile_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day         TEXT        NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    differences INTEGER     NOT NULL,
    body        TEXT        NOT NULL
);
CREATE INDEX reconcile_runs_day ON reconcile_runs (day, id);

CREATE TABLE reconcile_differences (
    run_id   BIGINT  NOT NULL REFERENCES reconcile_runs (id),
    seq      INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    external TEXT    NOT NULL,
    body     TEXT    NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- +goose Down
DROP TABLE reconcile_differences;
DROP TABLE reconcile_runs;
DROP INDEX sandbox_refunds_at;
DROP INDEX sandbox_payments_paid_at;
ALTER TABLE sandbox_payments DROP COLUMN fee_bp;
