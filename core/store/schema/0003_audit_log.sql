-- Append-only record of everything that decides (ARCHITECTURE.md, invariant 4).
-- correlation_id joins an agent message, its tool calls, gate decisions and orders.
CREATE TABLE IF NOT EXISTS audit_log (
    event_id        UUID,
    ts              DateTime64(6, 'UTC'),
    actor           LowCardinality(String),
    kind            LowCardinality(String),
    correlation_id  String,
    order_id        Nullable(UUID),
    strategy_id     LowCardinality(String),
    reason_codes    Array(LowCardinality(String)),
    limits_version  String,
    payload         String
) ENGINE = MergeTree
ORDER BY (ts, event_id);
