#!/usr/bin/env python3
"""Summary of a loadtest/benchmarks.sh output directory: one row per figure of issues 3, 4, 5 and 6, with
its value, the issue's target, whether it is met, and the report it comes from. Prints the table and
writes summary.md and summary.json into the directory.

usage: loadtest/benchmarks-summary.py DIR
"""
import json
import os
import sys

d = sys.argv[1]
rows = []


def load(name):
    try:
        with open(os.path.join(d, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def op(report, phase, name):
    if not report:
        return None
    for p in report.get("phases", []):
        if p["name"] == phase:
            for o in p["ops"]:
                if o["op"] == name:
                    return o
    return None


def phase_extra(report, phase):
    for p in (report or {}).get("phases", []):
        if p["name"] == phase:
            return p.get("extra", {})
    return {}


def checks(report):
    return (report or {}).get("checks", {})


def add(issue, figure, value, unit, target, ok, source, note=""):
    """ok: True / False / None (no numeric target or no value)."""
    rows.append({"issue": issue, "figure": figure, "value": value, "unit": unit, "target": target,
                 "status": "n/a" if ok is None or value is None else ("met" if ok else "MISSED"),
                 "source": source, "note": note})


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def errors_note(o):
    if o and o.get("errors"):
        return f"{o['errors']} errors {o.get('errors_by_code')}"
    return ""


# ---- issue 3
def via(report):
    """The transport a bench report was measured with: grpc, or rest (also for reports older than --transport)."""
    return "gRPC" if (report or {}).get("parameters", {}).get("transport") == "grpc" else "REST"


for dur, target in (("sync", 20000), ("async", 50000)):
    r = load(f"i3-ingest-{dur}.json")
    o = op(r, "ingest", "upsert")
    v = checks(r).get("points_per_s") if r else None
    add(3, f"ingest {dur} via gateway ({via(r)}), batches of 256, 8 writers", v, "points/s", f">= {target:,}",
        v is not None and v >= target and not (o and o["errors"]), f"i3-ingest-{dur}.json",
        (f"batch p50 {o['latency_ms']['p50']:.0f} ms p99 {o['latency_ms']['p99']:.0f} ms; " if o and o["ok"] else "")
        + errors_note(o))
    fb = load(f"i3-ingest-{dur}-fallback.json")
    if fb:
        fo_ = op(fb, "ingest", "upsert")
        bsz = fb.get("parameters", {}).get("batch")
        fv = checks(fb).get("points_per_s")
        add(3, f"FALLBACK ingest {dur} via gateway ({via(fb)}), batches of {bsz}, 8 writers", fv, "points/s",
            f">= {target:,}", fv is not None and fv >= target, f"i3-ingest-{dur}-fallback.json",
            "the issue's batch of 256 got no successful answer; " + errors_note(fo_))
    rr = load(f"i3-ingest-rest-{dur}.json")
    if rr:
        ro = op(rr, "ingest", "upsert")
        add(3, f"ingest {dur} via gateway (REST JSON, for comparison), batches of 256, 8 writers",
            checks(rr).get("points_per_s"), "points/s", "report", None, f"i3-ingest-rest-{dur}.json",
            (f"batch p50 {ro['latency_ms']['p50']:.0f} ms p99 {ro['latency_ms']['p99']:.0f} ms; " if ro and ro["ok"] else "")
            + errors_note(ro))
    f, fname = load(f"i3-forces-{dur}.json"), f"i3-forces-{dur}.json"
    if f is None:  # reports from before the gRPC ingest: REST batches
        f, fname = load(f"i3-forces-rest-{dur}.json"), f"i3-forces-rest-{dur}.json"
    if f:
        how = "gRPC" if f.get("transport") == "grpc" else "REST"
        add(3, f"WAL forces per acknowledged {how} batch ({dur}, 2 shards)",
            f.get("wal_forces_per_acked_batch", f.get("wal_forces_per_acked_rest_batch")),
            "forces/batch", "report (< 1 = group commit)", None, fname,
            f"{f.get('wal_forces')} forces, {f.get('acked_batches', f.get('acked_rest_batches'))} batches")
    w = load(f"i3-ingest-warm-{dur}.json")
    if w:
        c = checks(w)
        add(3, f"ingest {dur} via gateway (gRPC), batches of 256, 8 writers, after a warm-up", c.get("points_per_s"),
            "points/s", f">= {target:,}", c.get("points_per_s", 0) >= target, f"i3-ingest-warm-{dur}.json",
            "the measured pass follows " + str(w.get("parameters", {}).get("warmup", "a warm-up")).replace("PT", "").lower()
            + " of the same ingest")
    e = load(f"i3-engine-ingest-{dur}.json")
    if e:
        c = checks(e)
        add(3, f"engine only: ingest {dur}, batches of 256, 8 threads", c.get("points_per_s"), "points/s",
            f">= {target:,}", c.get("points_per_s", 0) >= target, f"i3-engine-ingest-{dur}.json")
        add(3, f"engine only: WAL forces per acknowledged batch ({dur})", c.get("wal_forces_per_acked_batch"),
            "forces/batch", "report (< 1 = group commit)", None, f"i3-engine-ingest-{dur}.json",
            f"{c.get('wal_forces')} forces, {c.get('acked_batches')} batches")
rp = load("i3-restart-process.json")
if rp:
    v = rp.get("spawn_to_ready_ms")
    add(3, f"restart-to-ready of a shard process ({rp.get('points_after')} points)", v if v and v >= 0 else None,
        "ms", "<= 3,000", v is not None and 0 <= v <= 3000, "i3-restart-process.json",
        f"shard's own recovery_ms {rp.get('recovery_ms')}; includes JVM start and Hazelcast join; "
        f"QUIVER_CDS={rp.get('quiver_cds', 'on')}")
er = load("i3-engine-restart.json")
if er:
    c = checks(er)
    add(3, f"engine only: reopen by WAL replay ({c.get('reopen_wal_replay_points')} points)",
        c.get("reopen_wal_replay_ms"), "ms", "<= 3,000", c.get("reopen_wal_replay_ms", 1e9) <= 3000,
        "i3-engine-restart.json", f"{c.get('reopen_wal_replay_wal_records_replayed')} WAL records")
    add(3, f"engine only: reopen from checkpoint ({c.get('reopen_from_checkpoint_points')} points)",
        c.get("reopen_from_checkpoint_ms"), "ms", "<= 3,000", c.get("reopen_from_checkpoint_ms", 1e9) <= 3000,
        "i3-engine-restart.json")

# ---- issue 4
ann = load("i4-search-ann.json")
o = op(ann, "search", "search")
if o:
    add(4, "ANN recall@10 (REST, 16 clients)", o.get("recall"), "", ">= 0.99", (o.get("recall") or 0) >= 0.99,
        "i4-search-ann.json")
    add(4, "ANN throughput (REST, 16 clients)", o["throughput_per_s"], "queries/s", ">= 1,500",
        o["throughput_per_s"] >= 1500, "i4-search-ann.json", errors_note(o))
    add(4, "ANN p99 (REST, 16 clients)", o["latency_ms"]["p99"], "ms", "<= 10", o["latency_ms"]["p99"] <= 10,
        "i4-search-ann.json", f"p50 {o['latency_ms']['p50']:.2f} ms")
for few in sorted(f[len("i4-search-ann-p"):-5] for f in os.listdir(d) if f.startswith("i4-search-ann-p")):
    fname = f"i4-search-ann-p{few}.json"
    o = op(load(fname), "search", "search")
    if o:
        add(4, f"ANN recall@10, collection of {few} partitions (REST, 16 clients)", o.get("recall"), "", ">= 0.99",
            (o.get("recall") or 0) >= 0.99, fname)
        add(4, f"ANN throughput, collection of {few} partitions (REST, 16 clients)", o["throughput_per_s"],
            "queries/s", ">= 1,500", o["throughput_per_s"] >= 1500, fname, errors_note(o))
        add(4, f"ANN p99, collection of {few} partitions (REST, 16 clients)", o["latency_ms"]["p99"], "ms", "<= 10",
            o["latency_ms"]["p99"] <= 10, fname, f"p50 {o['latency_ms']['p50']:.2f} ms")
    bp = load(f"i4-ann-build-p{few}.json")
    if bp:
        add(4, f"ANN fully built after ingest ends, collection of {few} partitions", bp.get("built_after_ingest_s"),
            "s", "<= 60", bp.get("stable") and bp.get("built_after_ingest_s", 1e9) <= 60, f"i4-ann-build-p{few}.json")
    ep = load(f"i4-engine-search-p{few}.json")
    a = op(ep, "ann", "search")
    if a:
        add(4, f"engine only: ANN throughput, {few} partitions (16 clients)", a["throughput_per_s"], "queries/s",
            ">= 1,500", a["throughput_per_s"] >= 1500, f"i4-engine-search-p{few}.json",
            f"recall {a.get('recall') or 0:.4f}, p50 {a['latency_ms']['p50']:.2f} ms, p99 {a['latency_ms']['p99']:.2f} ms")
ex = op(load("i4-search-exact.json"), "search", "search")
if ex:
    add(4, "exact single query p50 (REST, 1 client)", ex["latency_ms"]["p50"], "ms", "<= 20",
        ex["latency_ms"]["p50"] <= 20, "i4-search-exact.json", f"p99 {ex['latency_ms']['p99']:.1f} ms")
eb = op(load("i4-search-exact-batch.json"), "search", "search_batch")
if eb:
    add(4, "exact /search/topk/batch of 100 (REST, 1 client)", eb["throughput_per_s"] * 100, "queries/s", ">= 800",
        eb["throughput_per_s"] * 100 >= 800, "i4-search-exact-batch.json", errors_note(eb))
ebf_r = load("i4-search-exact-batch-fallback.json")
ebf = op(ebf_r, "search", "search_batch")
if ebf:
    n = ebf_r.get("parameters", {}).get("batch-queries") or 50
    add(4, f"FALLBACK exact /search/topk/batch of {n} (REST, 1 client)", ebf["throughput_per_s"] * n, "queries/s",
        ">= 800", ebf["throughput_per_s"] * n >= 800, "i4-search-exact-batch-fallback.json",
        "the issue's batch of 100 got no successful answer; " + errors_note(ebf))
b = load("i4-ann-build.json")
if b:
    add(4, "ANN fully built after ingest ends (REST, memory stable)", b.get("built_after_ingest_s"), "s", "<= 60",
        b.get("stable") and b.get("built_after_ingest_s", 1e9) <= 60, "i4-ann-build.json")
    add(4, "memory per point with ANN (shards' memory_used_bytes / points)", b.get("memory_bytes_per_point"), "bytes",
        "<= 4,077 (1.3 x 3,136)", (b.get("memory_bytes_per_point") or 1e9) <= 1.3 * 3136, "i4-ann-build.json",
        f"{b.get('memory_over_raw') or 0:.2f} x raw")
fo = op(load("i4-search-ann-filter.json"), "search", "search")
if fo:
    add(4, "auto mode with filter label=3 (REST, 16 clients)", fo["throughput_per_s"], "queries/s", "report", None,
        "i4-search-ann-filter.json", f"p50 {fo['latency_ms']['p50']:.1f} ms p99 {fo['latency_ms']['p99']:.1f} ms")
es = load("i4-engine-search.json")
if es:
    c = checks(es)
    a = op(es, "ann", "search")
    x = op(es, "exact", "search")
    if a:
        add(4, "engine only: ANN recall@10 (16 clients)", a.get("recall"), "", ">= 0.99", (a.get("recall") or 0) >= 0.99,
            "i4-engine-search.json")
        add(4, "engine only: ANN throughput (16 clients)", a["throughput_per_s"], "queries/s", ">= 1,500",
            a["throughput_per_s"] >= 1500, "i4-engine-search.json")
        add(4, "engine only: ANN p99 (16 clients)", a["latency_ms"]["p99"], "ms", "<= 10", a["latency_ms"]["p99"] <= 10,
            "i4-engine-search.json", f"p50 {a['latency_ms']['p50']:.2f} ms")
    if x:
        add(4, "engine only: exact single query p50", x["latency_ms"]["p50"], "ms", "<= 20", x["latency_ms"]["p50"] <= 20,
            "i4-engine-search.json")
    add(4, "engine only: exact batch of 100", c.get("exact_batch_queries_per_s"), "queries/s", ">= 800",
        (c.get("exact_batch_queries_per_s") or 0) >= 800, "i4-engine-search.json")
    add(4, "engine only: ANN fully built after load", c.get("ann_build_after_load_s"), "s", "<= 60",
        c.get("ann_built") and (c.get("ann_build_after_load_s") or 1e9) <= 60, "i4-engine-search.json")
    add(4, "engine only: memory per point with ANN", c.get("memory_bytes_per_point"), "bytes", "<= 4,077",
        (c.get("memory_bytes_per_point") or 1e9) <= 1.3 * 3136, "i4-engine-search.json",
        f"{c.get('memory_over_raw') or 0:.2f} x raw")

# ---- issue 5
w = load("i5-wrk-get.json")
if w:
    add(5, "point GET p50 (wrk, 2 threads, 16 connections)", w.get("p50_ms"), "ms", "<= 1", w.get("p50_ms", 1e9) <= 1,
        "i5-wrk-get.json", f"p99 {w.get('p99_ms')} ms; wrk does not correct coordinated omission")
    errs = sum(w.get(k, 0) for k in ("errors_status", "errors_connect", "errors_read", "errors_timeout"))
    add(5, "point GET throughput (wrk)", w.get("rps"), "requests/s", ">= 20,000", w.get("rps", 0) >= 20000,
        "i5-wrk-get.json", f"{errs} errors" if errs else "")
if ex and es and op(es, "exact", "search"):
    g = ex["latency_ms"]["p50"] - op(es, "exact", "search")["latency_ms"]["p50"]
    add(5, "gateway overhead per exact search (REST p50 - engine p50, 1 client)", g, "ms", "report", None,
        "i4-search-exact.json, i4-engine-search.json", "REST path = HTTP + JSON + gateway + call to 2 shards (in-process in standalone since run 3, gRPC before) + merge")
if o and es and op(es, "ann", "search"):
    g = o["latency_ms"]["p50"] - op(es, "ann", "search")["latency_ms"]["p50"]
    add(5, "gateway overhead per ANN search (REST p50 - engine p50, 16 clients)", g, "ms", "report", None,
        "i4-search-ann.json, i4-engine-search.json")
ov = load("i5-overload.json")
if ov:
    steps = [p for p in ov["phases"] if p["name"].startswith("step-")]
    goodputs = [p.get("extra", {}).get("goodput_per_s", 0) for p in steps]
    cal = op(ov, "calibrate", "search")
    peak = max(goodputs + ([cal["throughput_per_s"]] if cal else []), default=0)
    last = steps[-1] if steps else None
    if last:
        e = last.get("extra", {})
        ratio = e.get("goodput_per_s", 0) / peak if peak else None
        add(5, f"overload: goodput at {e.get('factor')}x capacity / peak goodput", ratio, "", ">= 0.90",
            ratio is not None and ratio >= 0.9, "i5-overload.json",
            f"capacity {checks(ov).get('capacity_per_s', 0):.0f}/s, peak {peak:.0f}/s, at 5x {e.get('goodput_per_s', 0):.0f}/s")
        lo = op(ov, last["name"], "search")
        shed = e.get("shed", 0)
        add(5, f"overload: rejection p99 at {e.get('factor')}x", e.get("rejection_p99_ms") if shed else None, "ms",
            "<= 10", shed and e.get("rejection_p99_ms", 1e9) <= 10, "i5-overload.json",
            (f"{shed} shed, " if shed else "no request was shed: the gateway queued instead; ")
            + (f"ok p99 {lo['latency_ms']['p99']:.0f} ms; " if lo else "") + errors_note(lo))

# ---- issue 6
rb = load("i6-rebalance.json")
if rb:
    add(6, f"rebalance {rb.get('points')} points from 2 to 3 shards (first move -> even, no moves)",
        rb.get("rebalance_ms"), "ms", "report", None, "i6-rebalance.json",
        f"{rb.get('partitions_moved')} partitions moved; spawn of the 3rd shard -> even {fmt(rb.get('spawn_to_balanced_ms'))} ms"
        + ("" if rb.get("balanced") else "; NOT BALANCED"))
    add(6, "partition move throughput (bytes fetched by new owners / rebalance time)", rb.get("move_mb_per_s"), "MB/s",
        "report", None, "i6-rebalance.json",
        f"{fmt(rb.get('moved_bytes'))} bytes, up to {rb.get('max_concurrent_moves')} moves at once")
for phase in ("before", "during", "after"):
    sr = op(load(f"i6-search-{phase}.json"), "search", "search")
    if sr:
        mode = (load(f"i6-search-{phase}.json") or {}).get("parameters", {}).get("mode")
        notes = [f"p99 {sr['latency_ms']['p99']:.1f} ms, {sr['throughput_per_s']:.0f} queries/s", errors_note(sr)]
        if phase == "during" and rb and rb.get("search_during_overlap_with_moves") is not None:
            notes.append(f"moves ran during {rb['search_during_overlap_with_moves']:.0%} of this phase")
        note = "; ".join(n for n in notes if n)
        add(6, f"{mode} search p50 {phase} the moves (REST)", sr["latency_ms"]["p50"], "ms", "report", None,
            f"i6-search-{phase}.json", note)

# ---- output
header = "| issue | figure | value | unit | target | status | report | note |\n|---|---|---|---|---|---|---|---|\n"
md = header + "".join(
    f"| {r['issue']} | {r['figure']} | {fmt(r['value'])} | {r['unit']} | {r['target']} | {r['status']} | "
    f"{r['source']} | {r['note']} |\n" for r in rows)
with open(os.path.join(d, "summary.md"), "w") as f:
    f.write(md)
with open(os.path.join(d, "summary.json"), "w") as f:
    json.dump(rows, f, indent=2)
width = max((len(r["figure"]) for r in rows), default=10)
for r in rows:
    print(f"#{r['issue']}  {r['figure']:<{width}}  {fmt(r['value']):>12} {r['unit']:<11} target {r['target']:<26} {r['status']}")
missing = [n for n in ("i3-ingest-sync.json", "i4-search-ann.json", "i5-overload.json") if load(n) is None]
if missing:
    print("(not run or failed: " + ", ".join(missing) + ")")
