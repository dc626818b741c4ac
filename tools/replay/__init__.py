"""The desk replayed over history: the record a replay leaves (models), and what is made of it
(the baselines under the same costs, the metrics with bootstrap intervals, the HTML report
and the MLflow run). The replay's loop itself drives the graph and lives in
interfaces/replay."""
