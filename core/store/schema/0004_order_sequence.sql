-- Several state changes of one order can share a millisecond: seq orders them.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS seq UInt32 DEFAULT 0;
