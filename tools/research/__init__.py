"""Strategy research: the Strategy Research agent's deterministic tools.

One strategy definition (bars -> target weights) drives two backtesters that share one
fill model: the weight decided at bar t's close trades at bar t+1's open.
"""
