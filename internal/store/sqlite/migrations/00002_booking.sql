-- +goose Up
-- One row per train date with inventory: its version rises with every
-- committed change so other processes know to reload.
CREATE TABLE train_dates (
    service_id   TEXT NOT NULL REFERENCES services (id),
    service_date TEXT NOT NULL,
    stops        INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    PRIMARY KEY (service_id, service_date)
);

-- Every seat of a train date with the legs it is sold on (bit i = leg i).
CREATE TABLE seat_inventory (
    service_id   TEXT NOT NULL,
    service_date TEXT NOT NULL,
    seat_no      INTEGER NOT NULL,
    car_no       INTEGER NOT NULL,
    label        TEXT NOT NULL,
    seat_class   TEXT NOT NULL,
    berth        TEXT NOT NULL,
    sold         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service_id, service_date, seat_no),
    FOREIGN KEY (service_id, service_date) REFERENCES train_dates (service_id, service_date)
);

-- Availability counters per kind: a stops × stops matrix of int32 (little
-- endian), entry [from][to] = seats free on every leg of from → to.
CREATE TABLE availability (
    service_id   TEXT NOT NULL,
    service_date TEXT NOT NULL,
    seat_class   TEXT NOT NULL,
    berth        TEXT NOT NULL,
    counts       BLOB NOT NULL,
    PRIMARY KEY (service_id, service_date, seat_class, berth),
    FOREIGN KEY (service_id, service_date) REFERENCES train_dates (service_id, service_date)
);

CREATE TABLE orders (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id),
    status          TEXT NOT NULL,
    service_id      TEXT NOT NULL,
    service_date    TEXT NOT NULL,
    total_fen       INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    hold_expires_at TEXT NOT NULL,
    paid_at         TEXT,
    payment_id      TEXT NOT NULL DEFAULT '',
    change_of       INTEGER NOT NULL DEFAULT 0
);
-- One unpaid order per account.
CREATE UNIQUE INDEX orders_one_held ON orders (account_id) WHERE status = 'held';
CREATE INDEX orders_expiry ON orders (hold_expires_at) WHERE status = 'held';
CREATE INDEX orders_account ON orders (account_id, id);

CREATE TABLE tickets (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES orders (id),
    service_id      TEXT NOT NULL,
    service_date    TEXT NOT NULL,
    number          TEXT NOT NULL,
    from_seq        INTEGER NOT NULL,
    to_seq          INTEGER NOT NULL,
    from_station_id TEXT NOT NULL,
    to_station_id   TEXT NOT NULL,
    departure       TEXT NOT NULL,
    arrival         TEXT NOT NULL,
    seat_no         INTEGER NOT NULL,
    car_no          INTEGER NOT NULL,
    seat            TEXT NOT NULL,
    seat_class      TEXT NOT NULL,
    berth           TEXT NOT NULL,
    passenger_name  TEXT NOT NULL,
    doc_type        TEXT NOT NULL,
    doc_number      TEXT NOT NULL,
    fare_fen        INTEGER NOT NULL,
    status          TEXT NOT NULL,
    refund_fen      INTEGER NOT NULL DEFAULT 0,
    fee_fen         INTEGER NOT NULL DEFAULT 0,
    changed_to      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tickets_order ON tickets (order_id);
CREATE INDEX tickets_train ON tickets (service_id, service_date) WHERE status IN ('held', 'paid');
-- One ticket per document per train per date.
CREATE UNIQUE INDEX tickets_one_per_document ON tickets (doc_type, doc_number, service_id, service_date) WHERE status IN ('held', 'paid');

CREATE TABLE order_events (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status   TEXT NOT NULL DEFAULT '',
    ticket_id   INTEGER NOT NULL DEFAULT 0,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_events_order ON order_events (order_id, id);

-- Editable settings as JSON (refund and change fee tables, hold length).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE order_events;
DROP TABLE tickets;
DROP TABLE orders;
DROP TABLE availability;
DROP TABLE seat_inventory;
DROP TABLE train_dates;
