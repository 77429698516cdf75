-- +goose Up
CREATE TABLE feeds (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('rail', 'metro')),
    timezone    TEXT NOT NULL,
    digest      TEXT NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE agencies (
    id       TEXT PRIMARY KEY,
    feed_id  TEXT NOT NULL REFERENCES feeds (id),
    name     TEXT NOT NULL,
    url      TEXT NOT NULL DEFAULT '',
    timezone TEXT NOT NULL DEFAULT '',
    lang     TEXT NOT NULL DEFAULT '',
    phone    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agencies_feed ON agencies (feed_id);

CREATE TABLE stations (
    id              TEXT PRIMARY KEY,
    feed_id         TEXT NOT NULL REFERENCES feeds (id),
    code            TEXT NOT NULL DEFAULT '',
    name_zh         TEXT NOT NULL DEFAULT '',
    name_en         TEXT NOT NULL DEFAULT '',
    pinyin          TEXT NOT NULL DEFAULT '',
    city            TEXT NOT NULL DEFAULT '',
    lat             DOUBLE PRECISION NOT NULL DEFAULT 0,
    lon             DOUBLE PRECISION NOT NULL DEFAULT 0,
    parent_id       TEXT NOT NULL DEFAULT '',
    url             TEXT NOT NULL DEFAULT '',
    wheelchair      INTEGER NOT NULL DEFAULT 0,
    -- search keys, lower case: code, pinyin without spaces, pinyin initials, English name
    search_code     TEXT NOT NULL DEFAULT '',
    search_pinyin   TEXT NOT NULL DEFAULT '',
    search_initials TEXT NOT NULL DEFAULT '',
    search_en       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX stations_feed ON stations (feed_id);
CREATE INDEX stations_code ON stations (search_code);
CREATE INDEX stations_pinyin ON stations (search_pinyin);
CREATE INDEX stations_initials ON stations (search_initials);

CREATE TABLE lines (
    id         TEXT PRIMARY KEY,
    feed_id    TEXT NOT NULL REFERENCES feeds (id),
    agency_id  TEXT NOT NULL DEFAULT '',
    code       TEXT NOT NULL DEFAULT '',
    name_zh    TEXT NOT NULL DEFAULT '',
    name_en    TEXT NOT NULL DEFAULT '',
    route_type INTEGER NOT NULL,
    color      TEXT NOT NULL DEFAULT '',
    text_color TEXT NOT NULL DEFAULT ''
);
CREATE INDEX lines_feed ON lines (feed_id);

CREATE TABLE line_stations (
    line_id    TEXT NOT NULL REFERENCES lines (id),
    seq        INTEGER NOT NULL,
    station_id TEXT NOT NULL REFERENCES stations (id),
    metres     INTEGER NOT NULL,
    PRIMARY KEY (line_id, seq)
);

CREATE TABLE calendars (
    id       TEXT PRIMARY KEY,
    feed_id  TEXT NOT NULL REFERENCES feeds (id),
    weekdays TEXT NOT NULL, -- seven 0/1 characters, Monday first
    start_on TEXT NOT NULL DEFAULT '',
    end_on   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calendars_feed ON calendars (feed_id);

CREATE TABLE calendar_exceptions (
    calendar_id TEXT NOT NULL REFERENCES calendars (id),
    on_date     TEXT NOT NULL,
    added       BOOLEAN NOT NULL,
    PRIMARY KEY (calendar_id, on_date)
);

CREATE TABLE services (
    id           TEXT PRIMARY KEY,
    feed_id      TEXT NOT NULL REFERENCES feeds (id),
    line_id      TEXT NOT NULL DEFAULT '',
    number       TEXT NOT NULL,
    calendar_id  TEXT NOT NULL REFERENCES calendars (id),
    headsign     TEXT NOT NULL DEFAULT '',
    direction_id INTEGER NOT NULL DEFAULT 0,
    shape_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX services_feed ON services (feed_id);
CREATE INDEX services_number ON services (number);

CREATE TABLE service_stops (
    service_id TEXT NOT NULL REFERENCES services (id),
    seq        INTEGER NOT NULL,
    station_id TEXT NOT NULL REFERENCES stations (id),
    arrive     INTEGER NOT NULL,
    depart     INTEGER NOT NULL,
    metres     INTEGER NOT NULL DEFAULT 0,
    pickup     INTEGER NOT NULL DEFAULT 0,
    drop_off   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service_id, seq)
);
CREATE INDEX service_stops_station ON service_stops (station_id);

CREATE TABLE car_types (
    code       TEXT PRIMARY KEY,
    seat_class TEXT NOT NULL,
    name_zh    TEXT NOT NULL,
    name_en    TEXT NOT NULL
);

CREATE TABLE car_type_seats (
    car_type    TEXT NOT NULL REFERENCES car_types (code),
    ord         INTEGER NOT NULL,
    label       TEXT NOT NULL,
    compartment INTEGER NOT NULL DEFAULT 0,
    berth       TEXT NOT NULL DEFAULT '',
    row_no      INTEGER NOT NULL DEFAULT 0,
    letter      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (car_type, ord),
    UNIQUE (car_type, label)
);

CREATE TABLE service_cars (
    service_id TEXT NOT NULL REFERENCES services (id),
    car_no     INTEGER NOT NULL,
    car_type   TEXT NOT NULL REFERENCES car_types (code),
    PRIMARY KEY (service_id, car_no)
);

CREATE TABLE transfers (
    feed_id         TEXT NOT NULL REFERENCES feeds (id),
    ord             INTEGER NOT NULL,
    from_station_id TEXT NOT NULL,
    to_station_id   TEXT NOT NULL,
    from_line_id    TEXT NOT NULL DEFAULT '',
    to_line_id      TEXT NOT NULL DEFAULT '',
    from_service_id TEXT NOT NULL DEFAULT '',
    to_service_id   TEXT NOT NULL DEFAULT '',
    transfer_type   INTEGER NOT NULL DEFAULT 0,
    min_seconds     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (feed_id, ord)
);

CREATE TABLE fares (
    service_id      TEXT NOT NULL REFERENCES services (id),
    from_station_id TEXT NOT NULL,
    to_station_id   TEXT NOT NULL,
    seat_class      TEXT NOT NULL,
    berth           TEXT NOT NULL DEFAULT '',
    fen             BIGINT NOT NULL CHECK (fen >= 0),
    PRIMARY KEY (service_id, from_station_id, to_station_id, seat_class, berth)
);

CREATE TABLE fare_bands (
    feed_id     TEXT NOT NULL REFERENCES feeds (id),
    up_to_metres INTEGER NOT NULL, -- 0: any distance
    fen         BIGINT NOT NULL CHECK (fen >= 0),
    PRIMARY KEY (feed_id, up_to_metres)
);

CREATE TABLE gtfs_fares (
    id                TEXT PRIMARY KEY,
    feed_id           TEXT NOT NULL REFERENCES feeds (id),
    price_minor       BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    payment_method    INTEGER NOT NULL,
    transfers         INTEGER NOT NULL,
    agency_id         TEXT NOT NULL DEFAULT '',
    transfer_duration INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE gtfs_fare_rules (
    fare_id        TEXT NOT NULL REFERENCES gtfs_fares (id),
    ord            INTEGER NOT NULL,
    line_id        TEXT NOT NULL DEFAULT '',
    origin_id      TEXT NOT NULL DEFAULT '',
    destination_id TEXT NOT NULL DEFAULT '',
    contains_id    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (fare_id, ord)
);

CREATE TABLE accounts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    phone         TEXT UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE tokens (
    hash       BYTEA PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    kind       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX tokens_expiry ON tokens (expires_at);

-- +goose Down
DROP TABLE tokens;
DROP TABLE accounts;
DROP TABLE gtfs_fare_rules;
DROP TABLE gtfs_fares;
DROP TABLE fare_bands;
DROP TABLE fares;
DROP TABLE transfers;
DROP TABLE service_cars;
DROP TABLE car_type_seats;
DROP TABLE car_types;
DROP TABLE service_stops;
DROP TABLE services;
DROP TABLE calendar_exceptions;
DROP TABLE calendars;
DROP TABLE line_stations;
DROP TABLE lines;
DROP TABLE stations;
DROP TABLE agencies;
DROP TABLE feeds;
