-- +goose Up
-- Metro clearing and settlement (SPEC M2, M3). These are the platform's
-- largest tables (a megacity day is 13.75 M trips), so times are unix
-- milliseconds: small rows, cheap comparisons.

-- Gate taps, idempotent by the gate's tap ID. cleared is set once the tap
-- is in a trip.
CREATE TABLE metro_taps (
    id      TEXT PRIMARY KEY,
    feed    TEXT NOT NULL,
    account BIGINT NOT NULL,
    station TEXT NOT NULL,
    gate    TEXT NOT NULL DEFAULT '',
    dir     TEXT NOT NULL CHECK (dir IN ('in', 'out')),
    at      BIGINT NOT NULL,
    code    TEXT NOT NULL DEFAULT '',
    cleared BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX metro_taps_open ON metro_taps (feed, account, at) WHERE NOT cleared;

-- Trips cleared from taps; seq is the order settlement walks them in.
CREATE TABLE metro_trips (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    feed         TEXT NOT NULL,
    account      BIGINT NOT NULL,
    status       TEXT NOT NULL,
    from_station TEXT NOT NULL DEFAULT '',
    to_station   TEXT NOT NULL DEFAULT '',
    from_line    TEXT NOT NULL DEFAULT '',
    to_line      TEXT NOT NULL DEFAULT '',
    in_tap       TEXT NOT NULL DEFAULT '',
    out_tap      TEXT NOT NULL DEFAULT '',
    entered      BIGINT NOT NULL DEFAULT 0,
    exited       BIGINT NOT NULL DEFAULT 0,
    metres       BIGINT NOT NULL,
    fare         BIGINT NOT NULL CHECK (fare >= 0)
);
CREATE INDEX metro_trips_account ON metro_trips (account, entered);

-- One ledger line per trip: who pays which part of its fare. The primary
-- key is what makes settlement exactly-once. trip_seq names a metro_trips
-- row but carries no foreign key: lines are only made from stored trips,
-- and probing the trips for every line of a 13.75 M-trip day would cost
-- the writer a page read per few lines.
CREATE TABLE metro_settlements (
    trip_seq  BIGINT PRIMARY KEY,
    account   BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    fare      BIGINT NOT NULL,
    passenger BIGINT NOT NULL,
    operator  BIGINT NOT NULL,
    merchant  BIGINT NOT NULL,
    subsidy   BIGINT NOT NULL,
    gift      BOOLEAN NOT NULL DEFAULT false,
    applied   TEXT NOT NULL DEFAULT '',
    CHECK (passenger >= 0 AND operator >= 0 AND merchant >= 0 AND subsidy >= 0),
    CHECK (passenger + operator + merchant + subsidy = fare)
);

-- One row per benefit a ledger line applied, for the statistics by station
-- and hour (SPEC V6, M5). Keyed by campaign, then trip: a settlement run
-- appends at the end of each campaign's range, so the index stays cheap to
-- write however many trips a day has.
CREATE TABLE metro_benefit_uses (
    campaign_id BIGINT NOT NULL,
    trip_seq    BIGINT NOT NULL,
    ticket_id   BIGINT NOT NULL,
    saving      BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, trip_seq)
);

-- Rider categories an account holds (teacher, senior, …), with their
-- validity, as the subsidy enrolments grant them.
CREATE TABLE rider_groups (
    account_id BIGINT NOT NULL,
    grp        TEXT NOT NULL,
    valid_from TIMESTAMPTZ NOT NULL,
    valid_until TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, grp)
);

-- +goose Down
DROP TABLE rider_groups;
DROP TABLE metro_benefit_uses;
DROP TABLE metro_settlements;
DROP TABLE metro_trips;
DROP TABLE metro_taps;
