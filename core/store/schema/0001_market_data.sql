-- Market data: bars and trades, plus what quality control refused.
CREATE TABLE IF NOT EXISTS bars (
    venue    LowCardinality(String),
    symbol   LowCardinality(String),
    interval LowCardinality(String),
    ts       DateTime64(3, 'UTC'),
    open     Float64,
    high     Float64,
    low      Float64,
    close    Float64,
    volume   Float64,
    derived  Bool DEFAULT false,
    source   LowCardinality(String)
) ENGINE = MergeTree
ORDER BY (venue, symbol, interval, ts);

CREATE TABLE IF NOT EXISTS trades (
    venue     LowCardinality(String),
    symbol    LowCardinality(String),
    ts        DateTime64(6, 'UTC'),
    trade_id  String,
    price     Float64,
    quantity  Float64,
    aggressor LowCardinality(String),
    source    LowCardinality(String)
) ENGINE = MergeTree
ORDER BY (venue, symbol, ts, trade_id);

-- Rows refused by quality control, kept with their reasons: never silently dropped.
-- ts is nullable because an unparseable timestamp is itself a reason for quarantine.
CREATE TABLE IF NOT EXISTS bars_quarantine (
    row_id          UUID,
    load_id         String,
    venue           LowCardinality(String),
    symbol          LowCardinality(String),
    interval        LowCardinality(String),
    ts              Nullable(DateTime64(3, 'UTC')),
    open            Float64,
    high            Float64,
    low             Float64,
    close           Float64,
    volume          Float64,
    source          LowCardinality(String),
    reasons         Array(LowCardinality(String)),
    quarantined_at  DateTime64(3, 'UTC')
) ENGINE = MergeTree
ORDER BY (venue, symbol, interval, row_id);

CREATE TABLE IF NOT EXISTS data_quality_events (
    event_id    UUID,
    load_id     String,
    ts          DateTime64(3, 'UTC'),
    venue       LowCardinality(String),
    symbol      LowCardinality(String),
    interval    LowCardinality(String),
    check_name  LowCardinality(String),
    severity    Enum8('info' = 1, 'warning' = 2, 'error' = 3),
    row_ts      Nullable(DateTime64(3, 'UTC')),
    row_count   UInt32,
    action      LowCardinality(String),
    detail      String
) ENGINE = MergeTree
ORDER BY (venue, symbol, interval, check_name, event_id);
