-- Every step of a strategy's life: proposed, scored, reviewed, paper, live, demoted, rejected.
CREATE TABLE IF NOT EXISTS strategy_lifecycle (
    strategy_key  String,
    stage         LowCardinality(String),
    actor         LowCardinality(String),
    reason        String,
    payload       String,
    ts            DateTime64(6, 'UTC')
) ENGINE = MergeTree
ORDER BY (strategy_key, ts);
