-- Orders (one row per state change), fills and position snapshots.
CREATE TABLE IF NOT EXISTS orders (
    order_id         UUID,
    client_order_id  String,
    strategy_id      LowCardinality(String),
    account_id       LowCardinality(String),
    venue            LowCardinality(String),
    symbol           LowCardinality(String),
    side             LowCardinality(String),
    order_type       LowCardinality(String),
    time_in_force    LowCardinality(String),
    quantity         Float64,
    limit_price      Nullable(Float64),
    filled_quantity  Float64,
    status           LowCardinality(String),
    reduce_only      Bool,
    ts               DateTime64(6, 'UTC')
) ENGINE = MergeTree
ORDER BY (strategy_id, ts, order_id);

CREATE TABLE IF NOT EXISTS fills (
    fill_id       String,
    order_id      UUID,
    strategy_id   LowCardinality(String),
    account_id    LowCardinality(String),
    venue         LowCardinality(String),
    symbol        LowCardinality(String),
    side          LowCardinality(String),
    quantity      Float64,
    price         Float64,
    fee           Float64,
    fee_currency  LowCardinality(String),
    liquidity     LowCardinality(String),
    ts            DateTime64(6, 'UTC')
) ENGINE = MergeTree
ORDER BY (strategy_id, ts, fill_id);

CREATE TABLE IF NOT EXISTS position_snapshots (
    ts              DateTime64(3, 'UTC'),
    account_id      LowCardinality(String),
    strategy_id     LowCardinality(String),
    venue           LowCardinality(String),
    symbol          LowCardinality(String),
    quantity        Float64,
    average_price   Float64,
    mark_price      Float64,
    realized_pnl    Float64,
    unrealized_pnl  Float64
) ENGINE = MergeTree
ORDER BY (account_id, strategy_id, venue, symbol, ts);
