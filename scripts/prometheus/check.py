#!/usr/bin/env python3
"""check.py - checks of the Prometheus rules and the Grafana dashboard.

  check.py dashboard DASHBOARD.json
      the JSON parses; it has the host selector (a template variable
      `instance` over the instance label); panel ids are unique and panels
      fit the 24-column grid; every panel has queries; under the "Per host"
      row every selector (tcpflags_* and up) is filtered by
      instance=~"$instance"; under the "Fleet" row none is, and every
      query sums the instance label away (without (instance) or by () not
      naming it) or ranks every host (topk).
  check.py names RULES.yml DASHBOARD.json METRICS.txt
      every tcpflags_* metric the rules and the dashboard query is in
      METRICS.txt (a scrape of the exporter), and so is every label value
      they match on (`l="v"`, and each word of `l=~"a|b"`), so that neither
      can rot when the exporter changes.
  check.py used RULES.yml DASHBOARD.json
      prints the tcpflags_* metric names they query, one a line.

One `PASS name` or `FAIL name: why` line per check; exit 1 on a failure.
"""
import json
import re
import sys

SELECTOR = re.compile(r'\b(tcpflags_[a-zA-Z0-9_]+|up)\b(\s*\{([^}]*)\})?')
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
# labels Prometheus adds to what it scrapes: not the exporter's
TARGET_LABELS = {"instance", "job"}
HOST = 'instance=~"$instance"'

failed = 0


def result(name, ok, why=""):
    global failed
    if ok:
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {why}")


def selectors(expr):
    """(metric, [(label, op, value)]) for each selector of expr."""
    # by (...) and without (...) lists name labels, not metrics
    for m in SELECTOR.finditer(expr):
        before = expr[:m.start()].rstrip()
        if before.endswith("(") and re.search(r'\b(by|without|on|ignoring|group_left|group_right)\s*\($', before):
            continue
        yield m.group(1), MATCHER.findall(m.group(3) or "")


def rule_exprs(path):
    """(alert name, expr) for each rule, read without a YAML library:
    the file's `expr: |` blocks and one-line `expr:`s."""
    out = []
    lines = open(path).read().splitlines()
    name = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r'^\s*-\s*(alert|record):\s*(\S+)', line)
        if m:
            name = m.group(2)
        m = re.match(r'^(\s*)expr:\s*(.*)$', line)
        if m:
            indent, rest = len(m.group(1)), m.group(2)
            if rest in ("|", ">", "|-", ">-"):
                body = []
                i += 1
                while i < len(lines) and (not lines[i].strip() or
                                          len(lines[i]) - len(lines[i].lstrip()) > indent):
                    body.append(lines[i].strip())
                    i += 1
                out.append((name, " ".join(body)))
                continue
            out.append((name, rest.strip().strip("'")))
        i += 1
    return out


def dashboard_panels(dash):
    """(row title, panel) for every non-row panel, rows flat or nested."""
    row = ""
    for p in dash.get("panels", []):
        if p.get("type") == "row":
            row = p.get("title", "")
            for q in p.get("panels", []):
                yield row, q
        else:
            yield row, p


def dashboard_exprs(dash):
    for row, p in dashboard_panels(dash):
        for t in p.get("targets", []):
            yield row, f"{p.get('id')}{t.get('refId', '')}", t.get("expr", "")


def load_dashboard(path):
    try:
        with open(path) as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        result("dashboard_json", False, str(e))
        return None
    result("dashboard_json", isinstance(dash, dict) and "panels" in dash,
           "not a dashboard object")
    return dash


def check_dashboard(path):
    dash = load_dashboard(path)
    if dash is None:
        return
    var = [v for v in dash.get("templating", {}).get("list", [])
           if v.get("name") == "instance"]
    q = var[0].get("query", {}) if var else {}
    q = q.get("query", "") if isinstance(q, dict) else q
    result("dashboard_host_selector",
           len(var) == 1 and re.search(r'label_values\(.*,\s*instance\)', q)
           and var[0].get("multi") and var[0].get("includeAll"),
           f"no multi-value template variable `instance` over label_values(..., instance): {var}")
    ids = [p.get("id") for _, p in dashboard_panels(dash)] + \
        [p.get("id") for p in dash["panels"] if p.get("type") == "row"]
    result("dashboard_panel_ids", len(ids) == len(set(ids)) and None not in ids,
           f"ids not unique: {ids}")
    bad = [p.get("title") for _, p in dashboard_panels(dash)
           if p["gridPos"]["x"] + p["gridPos"]["w"] > 24]
    result("dashboard_grid", not bad, f"past 24 columns: {bad}")
    rows = {r for r, _ in dashboard_panels(dash)}
    result("dashboard_rows", any(r.startswith("Per host") for r in rows) and "Fleet" in rows,
           f"rows {sorted(rows)}: want 'Per host...' and 'Fleet'")
    empty = [p.get("title") for _, p in dashboard_panels(dash)
             if not p.get("targets") or not all(t.get("expr") for t in p["targets"])]
    result("dashboard_queries", not empty, f"panels without a query: {empty}")
    n = 0
    for row, ref, expr in dashboard_exprs(dash):
        sels = list(selectors(expr))
        if not sels:
            result(f"dashboard_expr_{ref}", False, f"no metric in {expr}")
            continue
        n += 1
        if row.startswith("Per host"):
            bare = [m for m, ms in sels
                    if ("instance", "=~", "$instance") not in ms]
            result(f"per_host_{ref}", not bare,
                   f"{bare} not filtered by {HOST} in {expr}")
        elif row == "Fleet":
            # summed over the hosts, or ranking all of them (topk)
            result(f"fleet_{ref}",
                   "$instance" not in expr and re.search(
                       r'without\s*\([^)]*\binstance\b|by\s*\((?![^)]*\binstance\b)[^)]*\)|^topk\(',
                       expr),
                   f"uses $instance, or keeps the instance label: {expr}")
        else:
            result(f"dashboard_row_{ref}", False, f"outside a row: {row!r}")
    result("dashboard_exprs", n >= 10, f"only {n} queries")


def used(rules, dashpath):
    """{metric: [(where, [(label, op, value)])]} of rules and dashboard."""
    out = {}
    for name, expr in rule_exprs(rules):
        for m, ms in selectors(expr):
            out.setdefault(m, []).append((f"rule {name}", ms))
    with open(dashpath) as f:
        dash = json.load(f)
    for _, title, expr in dashboard_exprs(dash):
        for m, ms in selectors(expr):
            out.setdefault(m, []).append((f"panel {title}", ms))
    out.pop("up", None)  # Prometheus's own, per target
    return out


def scraped(path):
    """{metric: [labels dict]} of a text exposition."""
    out = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        m = SAMPLE.match(line)
        if m:
            out.setdefault(m.group(1), []).append(dict(LABEL.findall(m.group(3) or "")))
    return out


def check_names(rules, dashpath, metrics):
    want = used(rules, dashpath)
    have = scraped(metrics)
    result("names_used", len(want) >= 10, f"only {sorted(want)}")
    for metric in sorted(want):
        users = sorted({w for w, _ in want[metric]})
        result(f"emitted {metric}", metric in have,
               f"not in the scrape; used by {users}")
        if metric not in have:
            continue
        seen = set()
        for where, ms in want[metric]:
            for label, op, value in ms:
                if label in TARGET_LABELS or op not in ("=", "=~"):
                    continue
                if op == "=":
                    values = [value]
                elif re.fullmatch(r'[A-Za-z0-9_]+(\|[A-Za-z0-9_]+)*', value):
                    values = value.split("|")
                else:
                    continue  # a pattern, not a list of words
                for v in values:
                    if (label, v) in seen:
                        continue
                    seen.add((label, v))
                    result(f"emitted {metric}{{{label}=\"{v}\"}}",
                           any(s.get(label) == v for s in have[metric]),
                           f"no series with it; used by {where}")


def main(argv):
    if len(argv) == 3 and argv[1] == "dashboard":
        check_dashboard(argv[2])
    elif len(argv) == 5 and argv[1] == "names":
        check_names(argv[2], argv[3], argv[4])
    elif len(argv) == 4 and argv[1] == "used":
        for m in sorted(used(argv[2], argv[3])):
            print(m)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
