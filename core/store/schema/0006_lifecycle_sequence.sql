-- The order steps were written in, for steps that share a timestamp: a replay writes a
-- strategy's proposal, score, review and promotion at one simulated instant. Rows from
-- before this migration have 0 and keep ordering by time alone.
ALTER TABLE strategy_lifecycle ADD COLUMN IF NOT EXISTS seq UInt64 DEFAULT 0;
