"""Agents as services on the bus: `quantdesk agent <name>` runs one per process; the
in-process default meets on the same bus with the same code."""
