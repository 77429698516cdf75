-- +goose Up
-- Metro clearing and settlement (SPEC M2, M3). These are the platform's
-- largest tables (a megacity day is 13.75 M trips), so times are unix
-- milliseconds: small rows, cheap comparisons.

-- Gate taps, idempotent by the gate's tap ID. cleared is set once the tap
-- is in a trip.
CREATE TABLE metro_taps (
    id      TEXT PRIMARY KEY,
    feed    TEXT NOT NULL,
    account INTEGER NOT NULL,
    station TEXT NOT NULL,
    gate    TEXT NOT NULL DEFAULT '',
    dir     TEXT NOT NULL CHECK (dir IN ('in', 'out')),
    at      INTEGER NOT NULL,
    code    TEXT NOT NULL DEFAULT '',
    cleared INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX metro_taps_open ON metro_taps (feed, account, at) WHERE cleared = 0;

-- Trips cleared from taps; seq is the order settlement walks them in.
CREATE TABLE metro_trips (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    feed         TEXT NOT NULL,
    account      INTEGER NOT NULL,
    status       TEXT NOT NULL,
    from_station TEXT NOT NULL DEFAULT '',
    to_station   TEXT NOT NULL DEFAULT '',
    from_line    TEXT NOT NULL DEFAULT '',
    to_line      TEXT NOT NULL DEFAULT '',
    in_tap       TEXT NOT NULL DEFAULT '',
    out_tap      TEXT NOT NULL DEFAULT '',
    entered      INTEGER NOT NULL DEFAULT 0,
    exited       INTEGER NOT NULL DEFAULT 0,
    metres       INTEGER NOT NULL,
    fare         INTEGER NOT NULL CHECK (fare >= 0)
);
CREATE INDEX metro_trips_account ON metro_trips (account, entered);

-- One ledger line per trip: who pays which part of its fare. The primary
-- key is what makes settlement exactly-once. trip_seq names a metro_trips
-- row but carries no foreign key: lines are only made from stored trips,
-- and probing the trips for every line of a 13.75 M-trip day would cost
-- the writer a page read per few lines.
CREATE TABLE metro_settlements (
    trip_seq  INTEGER PRIMARY KEY,
    account   INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    fare      INTEGER NOT NULL,
    passenger INTEGER NOT NULL,
    operator  INTEGER NOT NULL,
    merchant  INTEGER NOT NULL,
    subsidy   INTEGER NOT NULL,
    gift      INTEGER NOT NULL DEFAULT 0,
    applied   TEXT NOT NULL DEFAULT '',
    CHECK (passenger >= 0 AND operator >= 0 AND merchant >= 0 AND subsidy >= 0),
    CHECK (passenger + operator + merchant + subsidy = fare)
);

-- One row per benefit a ledger line applied, for the statistics by station
-- and hour (SPEC V6, M5). Keyed by campaign, then trip: a settlement run
-- appends at the end of each campaign's range, so the index stays cheap to
-- write however many trips a day has.
CREATE TABLE metro_benefit_uses (
    campaign_id INTEGER NOT NULL,
    trip_seq    INTEGER NOT NULL,
    ticket_id   INTEGER NOT NULL,
    saving      INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, trip_seq)
) WITHOUT ROWID;

-- Rider categories an account holds (teacher, senior, …), with their
-- validity, as the subsidy enrolments grant them.
CREATE TABLE rider_groups (
    account_id INTEGER NOT NULL,
    grp        TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    PRIMARY KEY (account_id, grp)
);

-- +goose Down
DROP TABLE rider_groups;
DROP TABLE metro_benefit_uses;
DROP TABLE metro_settlements;
DROP TABLE metro_trips;
DROP TABLE metro_taps;
