"""The suite's JSON and HTML reports: pass rate by category, tokens, cost, seconds and who
decided the turns (the model or the rules), every check."""

from __future__ import annotations

import html
import json
from pathlib import Path

from evals.suite import SuiteResult


def write_reports(suite: SuiteResult, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    data = suite.to_json()
    json_path = folder / f"evals-{suite.router}.json"
    json_path.write_text(json.dumps(data, indent=2, default=str))
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{int(c['passed'])}/{int(c['scenarios'])}</td>"
        f"<td><div class='bar'><span style='width:{c['pass_rate'] * 100:.0f}%'></span></div>"
        f"{c['pass_rate']:.0%}</td><td>{int(c['tokens'])}</td><td>{c['cost_usd']:.4f}</td>"
        f"<td>{int(c['model_turns'])}</td><td>{int(c['rules_turns'])}</td>"
        f"<td>{c['seconds']:.1f}</td></tr>"
        for name, c in data["by_category"].items()
    )
    cases = "".join(
        f"<tr class='{'ok' if r.passed else 'bad'}'><td>{html.escape(r.id)}</td>"
        f"<td>{html.escape(r.category)}</td><td>{'pass' if r.passed else 'FAIL'}</td>"
        f"<td>{html.escape(' → '.join(r.trace))}</td><td>"
        + "<br>".join(
            f"{'✓' if c.passed else '✗'} {html.escape(c.name)}"
            + ("" if c.passed else f": {html.escape(c.detail[:300])}")
            for c in r.checks
        )
        + f"</td><td>{r.tokens}</td><td>{r.seconds}</td></tr>"
        for r in suite.results
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>QuantDesk evals</title>
<style>body{{font:14px system-ui,sans-serif;margin:20px}}table{{border-collapse:collapse}}
td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}}
.bar{{display:inline-block;width:120px;height:10px;background:#eee;margin-right:6px}}
.bar span{{display:block;height:10px;background:#12b76a}}tr.bad{{background:#fff1f0}}</style>
</head><body><h1>QuantDesk evals: router {html.escape(suite.router)}
{html.escape(suite.model or "")}</h1>
<p>{data["passed"]}/{data["scenarios"]} passed ({data["pass_rate"]:.1%}); tokens
{data["tokens"]}; cost {data["cost_usd"]:.4f} USD; turns decided by the model
{data["model_turns"]}, by the rules {data["rules_turns"]}; {data["seconds"]:.1f} s</p>
<h2>By category</h2><table><tr><th>category</th><th>passed</th><th>rate</th><th>tokens</th>
<th>cost (USD)</th><th>model turns</th><th>rules turns</th><th>s</th></tr>{rows}</table>
<h2>Scenarios</h2><table><tr><th>id</th><th>category</th><th>result</th><th>agents</th>
<th>checks</th><th>tokens</th><th>s</th></tr>{cases}</table></body></html>"""
    html_path = folder / f"evals-{suite.router}.html"
    html_path.write_text(page)
    return json_path, html_path
