#!/usr/bin/env python3
"""Polls a gateway's /admin/cluster every 100 ms until no partition move is in progress and the live shards
own an even share of the partitions (within 1), after at least one move was seen; writes the times (ns since
the epoch) of the first move seen and of that balanced state as JSON. Used by loadtest/benchmarks.sh (i6).

usage: loadtest/rebalance-poll.py URL T0_NS READY_NS SHARDS OUT.json
"""
import json
import sys
import time
import urllib.request

url, t0, ready, shards, dest = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
first_move = last_move = done = None
max_moves, polls, last = 0, 0, None
deadline = time.time() + 1800
while time.time() < deadline:
    try:
        s = json.load(urllib.request.urlopen(url + "/admin/cluster", timeout=5))
    except Exception:
        time.sleep(0.1)
        continue
    now, polls, last = time.time_ns(), polls + 1, s
    moves = len(s.get("moves", []))
    if moves:
        first_move = first_move or now
        last_move = now
        max_moves = max(max_moves, moves)
    parts = [x["partitions"] for x in s["shards"] if x.get("live")]
    if first_move and moves == 0 and len(parts) == shards and max(parts) - min(parts) <= 1:
        done = now
        break
    time.sleep(0.1)
json.dump({"t0_ns": t0, "ready_ns": ready, "first_move_ns": first_move, "last_move_seen_ns": last_move,
           "done_ns": done, "max_concurrent_moves": max_moves, "polls": polls, "last_status": last},
          open(dest, "w"), indent=2)
