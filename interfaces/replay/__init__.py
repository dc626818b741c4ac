"""The desk replayed over history: a simulated clock drives the scheduled jobs through the
same graph, agents, tools, gate and paper venue that run live (tools/replay holds what is
made of the record: baselines, metrics, the report)."""
