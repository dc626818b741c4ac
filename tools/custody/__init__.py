"""Custody: the desk's assets held at Fireblocks, read and reconciled against the ledger,
and transfers out that need two people and a whitelisted address."""
