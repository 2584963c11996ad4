"""Markdown tables of a pytest-benchmark JSON from bench_book.py, with ratios vs liqcore
and liqcore's margins on the project targets.

    python -m benchmarks.report bench.json [--out results.md]

Values are medians per operation (round median / extra_info["ops"]); ratio = peer /
liqcore within the same group of the same run (> 1 means liqcore is faster/smaller).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import OrderedDict

UNIT_SCALE = {"ns": 1e9, "us": 1e6}


def label(b):
    m = re.search(r"\[(.*)\]$", b["name"])
    if m:
        return m.group(1)
    if "nautilus" in b["name"]:
        return "nautilus_trader OrderBook (Cython)"
    return "liqcore"


def value(b):
    """(value, unit) per operation."""
    ex = b.get("extra_info", {})
    if ex.get("metric") == "kib_per_book":
        return ex["kib_per_book"], "KiB"
    unit = ex.get("unit", "us")
    return b["stats"]["median"] / ex.get("ops", 1) * UNIT_SCALE.get(unit, 1e6), unit


def collect(data):
    groups = OrderedDict()
    for b in data["benchmarks"]:
        groups.setdefault(b["group"] or "?", []).append(b)
    return groups


def fmt(v):
    if v != v:
        return "n/a"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}" if v < 1 else f"{v:.2f}"


def tables(groups):
    out = []
    for g, bs in groups.items():
        rows = [(label(b), *value(b), b) for b in bs]
        ref = next((r for r in rows if r[0].startswith("liqcore")), None)
        out.append(f"\n### {g}\n")
        out.append("| implementation | version | median | ratio vs liqcore (peer/liqcore) | notes |")
        out.append("|---|---|---|---|---|")
        for name, v, unit, b in sorted(rows, key=lambda r: r[1]):
            ex = b.get("extra_info", {})
            ratio = f"{v / ref[1]:.2f}x" if ref and ref[1] > 0 else "n/a"
            notes = []
            if ex.get("top50_agrees"):
                notes.append("top-50 agrees")
            if "to_bytes" in ex:
                notes.append(f"to_bytes {ex['to_bytes']:,} B; object {ex.get('sizeof_object')} B")
            if "books" in ex:
                notes.append(f"{ex['books']} books")
            out.append(f"| {name} | {ex.get('version', '')} | {fmt(v)} {unit} | {ratio} | {'; '.join(notes)} |")
    return out


def find(groups, prefix, lab):
    for g, bs in groups.items():
        if g.startswith(prefix):
            for b in bs:
                if label(b) == lab:
                    return value(b)[0]
    return None


def targets(groups):
    L = "liqcore"
    a = find(groups, "a)", L)
    b1 = find(groups, "b) batched, one", L)
    b10 = find(groups, "b) batched, messages of 10", L)
    c = find(groups, "c)", f"{L}:bbo")
    c2 = find(groups, "c)", f"{L}:best_bid+best_ask")
    d = find(groups, "d)", f"{L}:walk_native")
    dpy = find(groups, "d)", f"{L}:walk")
    e = find(groups, "e) top-20 both", L)
    e_out = find(groups, "e) top-20 both", f"{L}:out")
    e1 = find(groups, "e) top-20 one", L)
    f = find(groups, "f)", L)
    g = find(groups, "g)", f"{L}:natural")
    rows = []

    def row(name, target, got, unit, note=""):
        if got is None:
            rows.append(f"| {name} | {target} {unit} | not measured | — | {note} |")
            return
        ok = got <= target
        rows.append(f"| {name} | {target:g} {unit} | {fmt(got)} {unit} | "
                    f"{'MET' if ok else 'MISSED'} ({target / got:.2f}x target/measured) | {note} |")

    row("one update from Python (a)", 55, a, "ns")
    row("batch, one message (b)", 10, b1, "ns/level")
    row("batch, messages of 10 (b)", 10, b10, "ns/level", "per-call overhead included")
    row("10-update message + BBO read (g)", 60, g, "ns/update")
    row("BBO read, `bbo` (c)", 40, c, "ns")
    row("BBO read, `best_bid`+`best_ask` (c)", 40, c2, "ns", "two property reads")
    row("walk $1M, native (d)", 0.3, d, "us",
        "" if d is not None else f"walk() not on this branch; Python walk over asks(): {fmt(dpy or float('nan'))} us")
    row("top-20 to numpy, both sides (e)", 0.2, e, "us", "a new (2, 20, 2) array")
    row("top-20 to numpy, both sides, into an array (e)", 0.2, e_out, "us", "`top(20, out=buf)`")
    row("top-20 to numpy, one side (e)", 0.3, e1, "us")
    if f is not None:
        row("memory per 1000x2-level book, RSS (f)", 64, f, "KiB", f"= {f * 1024 / 2000:.1f} B/level (target 24)")
    out = ["\n## liqcore targets\n", "| target | limit | measured (median) | status (margin) | note |",
           "|---|---|---|---|---|", *rows]
    out.append("\n## Seed targets\n")
    out.append("| target | measured | margin |")
    out.append("|---|---|---|")
    if g is not None:
        per_msg_ms = g * 10 / 1e6
        out.append(f"| delta processing < 10 ms per delta message | {per_msg_ms * 1e3:.2f} us per 10-level "
                   f"message incl. BBO read | {10 / per_msg_ms:,.0f}x |")
    if a is not None:
        ups = 1e9 / a
        out.append(f"| > 1000 updates/s | {ups:,.0f} updates/s one-by-one from Python"
                   + (f"; {1e9 / b1:,.0f}/s batched" if b1 else "") + f" | {ups / 1000:,.0f}x |")
    if f is not None:
        out.append(f"| < 100 MB engine memory | {f:.1f} KiB per 1000x2-level book | "
                   f"{100 * 1024 * 1024 / (f * 1024):,.0f} such books fit |")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--out")
    ns = ap.parse_args(argv)
    data = json.load(open(ns.json))
    groups = collect(data)
    mi = data.get("machine_info", {})
    head = [f"# liqcore peer benchmarks\n",
            f"Python {mi.get('python_version')} on {mi.get('cpu', {}).get('brand_raw', '?')} "
            f"({mi.get('cpu', {}).get('count', '?')} CPUs); {data.get('datetime', '')}; "
            f"commit {data.get('commit_info', {}).get('id', '?')[:10]}"
            f"{' (dirty)' if data.get('commit_info', {}).get('dirty') else ''}.",
            "Medians per operation; ratio = peer/liqcore in the same group of the same run."]
    text = "\n".join(head + tables(groups) + targets(groups)) + "\n"
    if ns.out:
        open(ns.out, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
