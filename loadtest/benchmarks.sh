#!/usr/bin/env bash
# Reproduces every performance figure the issues ask for (issues 3, 4, 5, 6; docs/BENCHMARKS.md lists them
# with their targets). Starts its own clusters on 127.0.0.1 (free ports, explicit heaps, data under the
# output directory), writes one JSON report per measurement into the output directory, kills every
# process it started, and prints a summary table (also written as summary.md and summary.json).
#
# usage: loadtest/benchmarks.sh [--out DIR] [--quick] [--only LIST] [--no-build]
#   --out DIR     where reports go (default target/benchmarks/<UTC timestamp>)
#   --quick       small parameters (10,000 points, 200 queries, 5 s phases): checks the script, not the targets
#   --only LIST   comma list of steps: machine,i3-ingest,i3-engine,i3-restart,i4,i5,i6 (default: all)
#   --no-build    use server/target/quiver.jar as it is
# Environment (defaults in brackets): QB_POINTS [60000] QB_QUERIES [1000] QB_PHASE [30s] QB_BATCH [256]
#   QB_FALLBACK_BATCH [64] QB_FALLBACK_BATCH_QUERIES [50]: rerun with these when the issue's batch size
#   (256 points, 100 queries) gets no successful answer, so there is still a figure (labelled fallback)
#   QB_I4_BATCH [128] QB_I4_FEW_PARTITIONS [2: the second ANN collection] QB_RESTART_POINTS [60000, i.e. 30,000 per shard] QB_RESTART_CDS [aot: QUIVER_CDS of the restart step] QB_INGEST_WARMUP [15s: before the 2nd gRPC ingest] QB_WRK_DURATION [30s]
#   QB_OVERLOAD_STEP [10s] QB_STANDALONE_HEAP [3g] QB_BENCH_HEAP [3g]
#   QB_I6_MODE [exact] QB_I6_CONCURRENCY [4] QB_I6_DURING [QB_PHASE]: the search load before and while moves run
# Needs: a JDK >= 21, Maven (unless --no-build), curl, python3, wrk (apt-get install wrk),
# Fashion-MNIST (apt-get install dataset-fashion-mnist).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quiver="$here/bin/quiver"
out=""
quick=0
only="machine,i3-ingest,i3-engine,i3-restart,i4,i5,i6"
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    --only) only="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "benchmarks.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$quick" = 1 ]; then
  : "${QB_POINTS:=10000}" "${QB_QUERIES:=200}" "${QB_PHASE:=5s}" "${QB_RESTART_POINTS:=10000}"
  : "${QB_WRK_DURATION:=5s}" "${QB_OVERLOAD_STEP:=3s}"
fi
POINTS="${QB_POINTS:-60000}"
QUERIES="${QB_QUERIES:-1000}"
PHASE="${QB_PHASE:-30s}"
BATCH="${QB_BATCH:-256}"
I4_BATCH="${QB_I4_BATCH:-128}"
I4_FEW_PARTITIONS="${QB_I4_FEW_PARTITIONS:-2}"
FALLBACK_BATCH="${QB_FALLBACK_BATCH:-64}"
FALLBACK_BATCH_QUERIES="${QB_FALLBACK_BATCH_QUERIES:-50}"
RESTART_POINTS="${QB_RESTART_POINTS:-60000}"
RESTART_CDS="${QB_RESTART_CDS:-aot}"
INGEST_WARMUP="${QB_INGEST_WARMUP:-15s}"
WRK_DURATION="${QB_WRK_DURATION:-30s}"
OVERLOAD_STEP="${QB_OVERLOAD_STEP:-10s}"
STANDALONE_HEAP="${QB_STANDALONE_HEAP:-3g}"
BENCH_HEAP="${QB_BENCH_HEAP:-3g}"
I6_MODE="${QB_I6_MODE:-exact}"
I6_CONCURRENCY="${QB_I6_CONCURRENCY:-4}"
I6_DURING="${QB_I6_DURING:-$PHASE}"
out="${out:-$here/target/benchmarks/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$out/work"
mkdir -p "$work"
truth="$here/target/benchmarks/truth-cache"
mkdir -p "$truth"

want() { [[ ",$only," == *",$1,"* ]]; }
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- JDK and build

java_major() {
  local v
  v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
  echo "${v%%.*}"
}
find_jdk() {   # the same rule as bin/quiver: JAVA_HOME if >= 21, else the newest JDK >= 21 under /usr/lib/jvm
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ] && [ "$(java_major "$JAVA_HOME")" -ge 21 ]; then
    echo "$JAVA_HOME"; return
  fi
  local best="" best_v=0 d v
  for d in /usr/lib/jvm/*; do
    [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] && [ ! -L "$d" ] || continue
    v=$(java_major "$d")
    if [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best="$d"; best_v="$v"; fi
  done
  [ -n "$best" ] || { echo "benchmarks.sh: no JDK >= 21 found" >&2; exit 2; }
  echo "$best"
}
export JAVA_HOME="$(find_jdk)"
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "benchmarks.sh: $tool is needed" >&2; exit 2; }
done
if [ "$build" = 1 ]; then
  log "building server/target/quiver.jar (mvn package through the reactor, JDK $JAVA_HOME)"
  (cd "$here" && mvn -B -q -ntp -pl server -am package -DskipTests) >"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log" >&2; exit 2; }
fi
[ -f "$here/server/target/quiver.jar" ] || { echo "benchmarks.sh: server/target/quiver.jar is missing" >&2; exit 2; }
# bin/quiver rebuilds a jar older than the sources with 'mvn install'; make sure it never needs to.
touch "$here/server/target/quiver.jar"

# ---------------------------------------------------------------- processes

pids=()
cleanup() {
  local p
  for p in "${pids[@]:-}"; do
    [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start NAME READY_PREFIX ENV... -- ARGS...: runs bin/quiver ARGS in the background (own process group),
# waits up to 240 s for the ready line; sets $started_pid.
start() {
  local name="$1" ready="$2"; shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" setsid "$quiver" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  started_pid=$!
  pids+=("$started_pid")
  local i
  for i in $(seq 2400); do
    if grep -q "^$ready" "$work/$name.out" 2>/dev/null; then return 0; fi
    if ! kill -0 "$started_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "benchmarks.sh: $name did not become ready; last lines of $work/$name.err:" >&2
  tail -20 "$work/$name.err" >&2
  return 1
}

stop() {   # SIGTERM, then SIGKILL after 30 s
  local pid="$1" i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

bench() {   # bin/quiver bench ARGS...; output in work/bench-<report name>.log; never fails the script
  local name="$1"; shift
  log "bench $*"
  if QUIVER_HEAP="$BENCH_HEAP" "$quiver" bench "$@" --quiet --report "$out/$name.json" >"$work/bench-$name.log" 2>&1; then
    log "  -> $name.json"
  else
    log "  -> $name.json: exit $? (see $work/bench-$name.log)"
  fi
}

succeeded() {   # succeeded REPORT: true when some operation of the report had a successful answer
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if any(o["ok"] for p in r["phases"] for o in p["ops"]) else 1)' \
    "$out/$1.json" 2>/dev/null
}

shard_ready_json() { curl -s -m 5 "http://127.0.0.1:$1/ready" || echo '{}'; }

# JFR that records every FileChannel.force (to count WAL forces from outside the process).
jfr_forces="-XX:StartFlightRecording:settings=none,+jdk.FileForce#enabled=true,+jdk.FileForce#threshold=0ms,name=forces"

# count_forces PID FILE: dumps the recording and prints the number of forces on WAL segment files.
count_forces() {
  "$JAVA_HOME/bin/jcmd" "$1" JFR.dump name=forces filename="$2" >/dev/null 2>&1 || { echo -1; return; }
  "$JAVA_HOME/bin/jfr" print --events jdk.FileForce "$2" | grep -c 'path = ".*\.wal"' || true
}

fmnist=(--dataset fashion-mnist --points "$POINTS" --queries "$QUERIES" --truth-cache "$truth")

# ---------------------------------------------------------------- machine

if want machine; then
  {
    echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "git: $(git -C "$here" rev-parse --short HEAD 2>/dev/null) $(git -C "$here" status --porcelain 2>/dev/null | wc -l) uncommitted"
    echo "cores: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "memory_mb: $(free -m | awk '/^Mem:/ {print $2}')"
    echo "kernel: $(uname -sr)"
    echo "load_average_at_start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "jdk: $JAVA_HOME"
    "$JAVA_HOME/bin/java" -version 2>&1 | sed 's/^/  /'
    echo "wrk: $(if command -v wrk >/dev/null; then wrk --version 2>&1 | head -1; else echo missing; fi)"
    echo "parameters: points=$POINTS queries=$QUERIES phase=$PHASE batch=$BATCH i4_batch=$I4_BATCH restart_points=$RESTART_POINTS wrk=$WRK_DURATION overload_step=$OVERLOAD_STEP standalone_heap=$STANDALONE_HEAP"
  } >"$out/machine.txt"
  cat "$out/machine.txt" >&2
fi

# ---------------------------------------------------------------- issue 3: ingest through the gateway

standalone() {   # standalone NAME DURABILITY [extra java opts]: starts a 2-shard standalone; sets $http, $grpc, $shard_http, $sa_pid
  local name="$1" durability="$2" opts="${3:-}"
  http=$(free_port); grpc=$(free_port); shard_http=$(free_port)
  while [ "$shard_http" -ge 65000 ]; do shard_http=$(free_port); done
  start "$name" "Quiver standalone ready" QUIVER_HEAP="$STANDALONE_HEAP" QUIVER_JAVA_OPTS="$opts" -- standalone \
    --shards 2 --http-port "$http" --grpc-port "$grpc" --shard-port 0 --shard-http-port "$shard_http" \
    --cluster-port "$(free_port)" --cluster-name "bench-$name-$$" --data "$work/data-$name" \
    --durability "$durability" --memory-budget-mb 768
  sa_pid=$started_pid
}

if want i3-ingest; then
  for durability in sync async; do
    log "issue 3: ingest through the gateway's public gRPC port, $durability, batches of $BATCH, 8 writers"
    standalone "i3-$durability" "$durability" "$jfr_forces"
    bench "i3-ingest-$durability" ingest --transport grpc --url "http://127.0.0.1:$grpc" "${fmnist[@]}" \
      --batch "$BATCH" --concurrency 8 --recreate
    if ! succeeded "i3-ingest-$durability"; then
      log "  no batch of $BATCH succeeded: fallback run with batches of $FALLBACK_BATCH"
      bench "i3-ingest-$durability-fallback" ingest --transport grpc --url "http://127.0.0.1:$grpc" "${fmnist[@]}" \
        --batch "$FALLBACK_BATCH" --concurrency 8
    fi
    # Forces are counted right after the gRPC run, before the REST run adds its own.
    forces=$(count_forces "$sa_pid" "$work/i3-$durability.jfr")
    acked_report="$out/i3-ingest-$durability.json"
    succeeded "i3-ingest-$durability" || acked_report="$out/i3-ingest-$durability-fallback.json"
    python3 - "$acked_report" "$forces" "$out/i3-forces-$durability.json" <<'EOF'
import json, sys
report, forces, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    ok = next(o["ok"] for p in json.load(open(report))["phases"] for o in p["ops"] if o["op"] == "upsert")
except Exception:
    ok = 0
json.dump({"batches_from": report.rsplit("/", 1)[-1], "transport": "grpc",
           "method": "JFR jdk.FileForce events (threshold 0) on *.wal files in the standalone JVM, from its start to the "
           "end of the gRPC ingest; each acknowledged batch is split over 2 shards, each shard has its own WAL",
           "wal_forces": forces, "acked_batches": ok,
           "wal_forces_per_acked_batch": (forces / ok) if ok and forces >= 0 else None},
          open(dest, "w"), indent=2)
EOF
    # The run above is one pass over a freshly started JVM (about 4-6 s, much of it before the JIT has
    # compiled the write path); this one ingests for $INGEST_WARMUP first and measures the next pass.
    log "issue 3: gRPC ingest again after a warm-up of $INGEST_WARMUP, $durability"
    bench "i3-ingest-warm-$durability" ingest --transport grpc --url "http://127.0.0.1:$grpc" "${fmnist[@]}" \
      --batch "$BATCH" --concurrency 8 --recreate --warmup "$INGEST_WARMUP"
    log "issue 3: the same over REST (JSON), $durability, for comparison"
    bench "i3-ingest-rest-$durability" ingest --url "http://127.0.0.1:$http" "${fmnist[@]}" --batch "$BATCH" \
      --concurrency 8 --recreate
    stop "$sa_pid"
  done
fi

# ---------------------------------------------------------------- issue 3: the engine alone

if want i3-engine; then
  for durability in sync async; do
    log "issue 3: engine only, $durability, batches of $BATCH, 8 writer threads"
    bench "i3-engine-ingest-$durability" engine-ingest "${fmnist[@]}" --batch "$BATCH" --concurrency 8 \
      --durability "$durability" --data-dir "$work/engine-$durability"
    rm -rf "$work/engine-$durability"
  done
  log "issue 3: engine restart with $((RESTART_POINTS / 2)) points"
  bench i3-engine-restart engine-ingest --dataset fashion-mnist --points "$((RESTART_POINTS / 2))" --queries 1 \
    --batch "$BATCH" --concurrency 8 --durability sync --reopen --data-dir "$work/engine-restart"
  rm -rf "$work/engine-restart"
fi

# ---------------------------------------------------------------- issue 3: restart-to-ready of a shard process

if want i3-restart; then
  log "issue 3: restart-to-ready of a shard process holding $((RESTART_POINTS / 2)) points"
  name="restart-$$"; cport=$(free_port); gw_http=$(free_port); gw_grpc=$(free_port)
  s0_http=$(free_port); s1_http=$(free_port)
  shard_args() {  # shard_args I HTTP_PORT
    echo shard --shard-id "$1" --host 127.0.0.1 --shard-port 0 --shard-http-port "$2" --data "$work/data-restart/s$1" \
      --cluster-name "$name" --cluster-port "$((cport + 1 + $1))" \
      --cluster-members "127.0.0.1:$((cport + 1)),127.0.0.1:$((cport + 2)),127.0.0.1:$cport" --memory-budget-mb 768
  }
  # A shard JVM that exits normally leaves the class data that bin/quiver uses at the next start
  # (QUIVER_CDS: aot = JDK 25 AOT cache, the default here; on = AppCDS; QUIVER_CDS_DIR), as on any
  # machine that ran a shard before: one throwaway shard makes sure it is there and matches this jar.
  export QUIVER_CDS="$RESTART_CDS"
  warm_port=$(free_port)
  start restart-warm "Quiver shard 9 ready" QUIVER_HEAP=1536m -- shard --shard-id 9 --host 127.0.0.1 --shard-port 0 \
    --shard-http-port "$(free_port)" --data "$work/data-restart/warm" --cluster-name "$name-warm" \
    --cluster-port "$warm_port" --cluster-members "127.0.0.1:$warm_port" --memory-budget-mb 768
  stop "$started_pid"
  # shards first: the gateway is a Hazelcast lite member and needs a data member to join
  # shellcheck disable=SC2046
  start restart-s0 "Quiver shard 0 ready" QUIVER_HEAP=1536m -- $(shard_args 0 "$s0_http"); s0_pid=$started_pid
  # shellcheck disable=SC2046
  start restart-s1 "Quiver shard 1 ready" QUIVER_HEAP=1536m -- $(shard_args 1 "$s1_http"); s1_pid=$started_pid
  start restart-gw "Quiver gateway ready" QUIVER_HEAP=512m -- gateway --http-host 127.0.0.1 --http-port "$gw_http" \
    --grpc-port "$gw_grpc" --cluster-name "$name" --cluster-port "$cport" \
    --cluster-members "127.0.0.1:$((cport + 1)),127.0.0.1:$((cport + 2))"
  gw_pid=$started_pid
  bench i3-restart-load ingest --transport grpc --url "http://127.0.0.1:$gw_grpc" --dataset fashion-mnist --points "$RESTART_POINTS" \
    --queries 1 --batch "$I4_BATCH" --concurrency 8 --recreate
  before=$(shard_ready_json "$s0_http")
  kill -9 "$s0_pid"; wait "$s0_pid" 2>/dev/null || true
  t0=$(date +%s%N)
  # shellcheck disable=SC2046
  env QUIVER_HEAP=1536m setsid "$quiver" $(shard_args 0 "$s0_http") >"$work/restart-s0b.out" 2>"$work/restart-s0b.err" &
  s0_pid=$!; pids+=("$s0_pid")
  ready_ms=-1
  for i in $(seq 2400); do
    code=$(curl -s -o "$work/restart-ready.json" -w '%{http_code}' -m 1 "http://127.0.0.1:$s0_http/ready" || true)
    if [ "$code" = 200 ]; then ready_ms=$(( ($(date +%s%N) - t0) / 1000000 )); break; fi
    sleep 0.05
  done
  python3 - "$before" "$work/restart-ready.json" "$ready_ms" "$out/i3-restart-process.json" "$work/restart-s0b.err" \
    "$QUIVER_CDS" <<'EOF'
import json, re, sys
before = json.loads(sys.argv[1] or "{}").get("checks", {})
try:
    after = json.load(open(sys.argv[2])).get("checks", {})
except Exception:
    after = {}
# The shard logs each start-up step with the milliseconds since its JVM started (ShardCommand).
steps = {}
try:
    for line in open(sys.argv[5], errors="replace"):
        m = re.search(r"start-up: (.*?) \((\d+) ms since JVM start\)", line)
        if m:
            steps[m.group(1)] = int(m.group(2))
except OSError:
    pass
json.dump({"method": "SIGKILL shard 0 (a separate bin/quiver shard process) after the load, start it again, poll its /ready "
           "every 50 ms; spawn_to_ready_ms includes JVM start, Hazelcast join and recovery (recovery runs while the "
           "shard joins); recovery_ms is the shard's own figure; startup_steps_ms are the shard's log lines, ms since "
           "its JVM started",
           "points_before": before.get("points"), "points_after": after.get("points"),
           "spawn_to_ready_ms": int(sys.argv[3]), "recovery_ms": after.get("recovery_ms"),
           "startup_steps_ms": steps, "wal_bytes_before": before.get("wal_bytes"), "quiver_cds": sys.argv[6]},
          open(sys.argv[4], "w"), indent=2)
EOF
  stop "$gw_pid"; stop "$s0_pid"; stop "$s1_pid"
  unset QUIVER_CDS
  rm -rf "$work/data-restart"
fi

# ---------------------------------------------------------------- issues 4 and 5: search, GET, overload

wait_ann_built() {   # wait_ann_built INGEST_END_NS REPORT: waits until the standalone's ANN graphs hold every point
  # Polls both shards' /ready every 0.2 s until ann_pending_points (points not yet in a graph) is 0 on
  # both; the build time is that poll minus the end of the ingest. Memory per point is read then.
  python3 - "$1" "$2" "${shards_http[@]}" <<'EOF'
import json, sys, time, urllib.request
end_ns, dest, ports = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
def snap():
    total, points, pending = 0, 0, 0
    for p in ports:
        c = json.load(urllib.request.urlopen(f"http://127.0.0.1:{p}/ready", timeout=5))["checks"]
        total += c["memory_used_bytes"]; points += c["points"]; pending += c["ann_pending_points"]
    return total, points, pending
deadline, built_ns = time.time() + 900, None
while time.time() < deadline:
    mem, points, pending = snap()
    if pending == 0:
        built_ns = time.time_ns()
        break
    time.sleep(0.2)
json.dump({"method": "poll shard /ready every 0.2 s until ann_pending_points (points not yet in an ANN graph) is 0 "
           "on every shard; built_after_ingest_s = that poll - end of ingest",
           "built_after_ingest_s": max(0.0, (built_ns - end_ns) / 1e9) if built_ns else None,
           "stable": built_ns is not None, "ann_pending_points": pending,
           "memory_used_bytes": mem, "points": points,
           "memory_bytes_per_point": mem / points if points else None,
           "raw_bytes_per_point": 3136, "memory_over_raw": (mem / points / 3136) if points else None},
          open(dest, "w"), indent=2)
EOF
}

if want i4 || want i5; then
  log "issues 4/5: standalone with 2 shards, Fashion-MNIST $POINTS points"
  standalone i4 sync
  url="http://127.0.0.1:$http"
  shards_http=("$shard_http" "$((shard_http + 1))")
  bench i4-load ingest --url "$url" "${fmnist[@]}" --batch "$I4_BATCH" --concurrency 8 --recreate
  ingest_end=$(date +%s%N)

  wait_ann_built "$ingest_end" "$out/i4-ann-build.json"
  if want i4; then
    bench i4-search-ann search --url "$url" "${fmnist[@]}" --mode ann --k 10 --concurrency 16 --duration "$PHASE" --warmup 5s
    bench i4-search-exact search --url "$url" "${fmnist[@]}" --mode exact --k 10 --concurrency 1 --duration "$PHASE" --warmup 5s
    bench i4-search-exact-batch search --url "$url" "${fmnist[@]}" --mode exact --k 10 --batch-queries 100 \
      --concurrency 1 --duration "$PHASE" --warmup 5s --timeout 30s
    if ! succeeded i4-search-exact-batch; then
      log "  no batch of 100 queries succeeded: fallback run with $FALLBACK_BATCH_QUERIES queries per batch"
      bench i4-search-exact-batch-fallback search --url "$url" "${fmnist[@]}" --mode exact --k 10 \
        --batch-queries "$FALLBACK_BATCH_QUERIES" --concurrency 1 --duration "$PHASE" --warmup 5s --timeout 30s
    fi
    bench i4-search-ann-filter search --url "$url" "${fmnist[@]}" --mode auto --k 10 --concurrency 16 --duration "$PHASE" \
      --filter '{"must":[{"field":"label","value":3}]}'
    # The same data in a collection of 2 partitions (one per shard): one graph per shard to walk per
    # query instead of 8. The partition count is the user's choice at creation (API.md); see SCALING.md.
    log "issue 4: ANN again on a collection of $I4_FEW_PARTITIONS partitions"
    bench i4-load-p$I4_FEW_PARTITIONS ingest --url "$url" "${fmnist[@]}" --collection "bench_p$I4_FEW_PARTITIONS" \
      --partitions "$I4_FEW_PARTITIONS" --batch "$I4_BATCH" --concurrency 8 --recreate
    wait_ann_built "$(date +%s%N)" "$out/i4-ann-build-p$I4_FEW_PARTITIONS.json"
    bench i4-search-ann-p$I4_FEW_PARTITIONS search --url "$url" "${fmnist[@]}" --collection "bench_p$I4_FEW_PARTITIONS" \
      --mode ann --k 10 --concurrency 16 --duration "$PHASE" --warmup 5s
  fi
  if want i5; then
    if command -v wrk >/dev/null; then
      log "issue 5: wrk point GET, 2 threads, 16 connections, $WRK_DURATION"
      wrk -t2 -c16 -d"$WRK_DURATION" --latency -s "$here/loadtest/wrk/get-points.lua" "$url" -- bench "$POINTS" \
        >"$work/wrk-get.txt" 2>&1 || true
      grep '^WRK_JSON ' "$work/wrk-get.txt" | sed 's/^WRK_JSON //' >"$out/i5-wrk-get.json" || true
    else
      log "issue 5: wrk missing (apt-get install wrk): point GET skipped"
    fi
    # --connections 256: open-loop arrivals must reach the gateway (as from many clients); with the
    # default pool of 32 they waited in the client's own queue and the gateway's limit never applied.
    bench i5-overload overload --url "$url" "${fmnist[@]}" --mode exact --k 10 --no-recall --concurrency 16 --connections 256 \
      --calibrate "$OVERLOAD_STEP" --max-factor 5 --factor-step 1 --step-duration "$OVERLOAD_STEP"
  fi
  stop "$sa_pid"
  rm -rf "$work/data-i4"
  if want i4; then
    log "issue 4: the same searches in-process (engine only)"
    bench i4-engine-search engine-search "${fmnist[@]}" --k 10 --shards 2 --partitions 16 --ann-concurrency 16 \
      --exact-concurrency 1 --batch-concurrency 1 --batch-queries 100 --phase-duration "$PHASE"
    bench i4-engine-search-p$I4_FEW_PARTITIONS engine-search "${fmnist[@]}" --k 10 --shards 2 \
      --partitions "$I4_FEW_PARTITIONS" --ann-concurrency 16 --exact-concurrency 1 --batch-concurrency 1 \
      --batch-queries 100 --phase-duration "$PHASE"
  fi
fi
# ---------------------------------------------------------------- issue 6: rebalancing onto a new shard

if want i6; then
  log "issue 6: 2 shard processes + gateway, $POINTS points, then a 3rd shard: move throughput and search latency"
  name="i6-$$"; cport=$(free_port); gw_http=$(free_port)
  members="127.0.0.1:$((cport + 1)),127.0.0.1:$((cport + 2)),127.0.0.1:$((cport + 3)),127.0.0.1:$cport"
  i6_http=("$(free_port)" "$(free_port)" "$(free_port)")
  i6_args() {  # i6_args I: the bin/quiver arguments of shard I
    echo shard --shard-id "$1" --host 127.0.0.1 --shard-port 0 --shard-http-port "${i6_http[$1]}" \
      --data "$work/data-i6/s$1" --cluster-name "$name" --cluster-port "$((cport + 1 + $1))" \
      --cluster-members "$members" --memory-budget-mb 768
  }
  # shellcheck disable=SC2046
  start i6-s0 "Quiver shard 0 ready" QUIVER_HEAP=1536m -- $(i6_args 0); i6_s0=$started_pid
  # shellcheck disable=SC2046
  start i6-s1 "Quiver shard 1 ready" QUIVER_HEAP=1536m -- $(i6_args 1); i6_s1=$started_pid
  start i6-gw "Quiver gateway ready" QUIVER_HEAP=512m -- gateway --http-host 127.0.0.1 --http-port "$gw_http" \
    --grpc-port "$(free_port)" --cluster-name "$name" --cluster-port "$cport" --cluster-members "$members"
  i6_gw=$started_pid
  url="http://127.0.0.1:$gw_http"
  bench i6-load ingest --url "$url" "${fmnist[@]}" --batch "$I4_BATCH" --concurrency 8 --recreate
  i6_search=(search --url "$url" "${fmnist[@]}" --mode "$I6_MODE" --k 10 --concurrency "$I6_CONCURRENCY")
  bench i6-search-before "${i6_search[@]}" --duration "$PHASE" --warmup 5s
  # The 3rd shard: t0 is its spawn. A poller reads /admin/cluster every 100 ms until no move is in progress
  # and the partitions are even (within 1), while the search load runs from the moment the shard is ready.
  t0=$(date +%s%N)
  # shellcheck disable=SC2046
  start i6-s2 "Quiver shard 2 ready" QUIVER_HEAP=1536m -- $(i6_args 2); i6_s2=$started_pid
  t_ready=$(date +%s%N)
  python3 "$here/loadtest/rebalance-poll.py" "$url" "$t0" "$t_ready" 3 "$work/i6-poll.json" &
  poller=$!
  bench i6-search-during "${i6_search[@]}" --duration "$I6_DURING" --warmup 0s
  t_search_end=$(date +%s%N)
  wait "$poller" || true
  bench i6-search-after "${i6_search[@]}" --duration "$PHASE" --warmup 5s
  i6_metrics=()
  for p in "${i6_http[@]}"; do i6_metrics+=("$(curl -s -m 5 "http://127.0.0.1:$p/metrics" || echo '{}')"); done
  python3 - "$work/i6-poll.json" "$t_search_end" "$out/i6-rebalance.json" "$I6_DURING" "${i6_metrics[@]}" <<'EOF'
import json, sys
poll, search_end, dest, during = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3], sys.argv[4]
shards = [json.loads(m or "{}") for m in sys.argv[5:]]
moved = sum(s.get("move_received_bytes", 0) for s in shards)
ms = lambda a, b: (b - a) / 1e6 if a and b else None
rebalance_ms = ms(poll["first_move_ns"], poll["done_ns"])
overlap = None
if poll["first_move_ns"] and poll["done_ns"]:
    lo, hi = max(poll["ready_ns"], poll["first_move_ns"]), min(search_end, poll["done_ns"])
    overlap = max(0, hi - lo) / max(1, search_end - poll["ready_ns"])
json.dump({
    "method": "2 bin/quiver shard processes + 1 gateway, Fashion-MNIST loaded through REST, then a 3rd shard process; "
              "/admin/cluster polled every 100 ms until no move is in progress and the partitions are even (+-1); "
              "moved_bytes sums the shards' move_received_bytes (snapshot chunks + WAL tail fetched by new owners)",
    "points": sum(s.get("points", 0) for s in shards),
    "spawn_to_ready_ms": ms(poll["t0_ns"], poll["ready_ns"]),
    "spawn_to_balanced_ms": ms(poll["t0_ns"], poll["done_ns"]),
    "ready_to_balanced_ms": ms(poll["ready_ns"], poll["done_ns"]),
    "rebalance_ms": rebalance_ms,
    "rebalance_ms_note": "first move seen in /admin/cluster -> no move and partitions even (100 ms resolution)",
    "moved_bytes": moved,
    "partitions_moved": sum(s.get("partitions_received", 0) for s in shards),
    "move_mb_per_s": (moved / 1e6) / (rebalance_ms / 1000) if rebalance_ms else None,
    "max_concurrent_moves": poll["max_concurrent_moves"],
    "partitions_after": {str(s.get("shard_id")): s.get("partitions") for s in shards},
    "points_after": {str(s.get("shard_id")): s.get("points") for s in shards},
    "search_during_duration": during,
    "search_during_overlap_with_moves": overlap,
    "balanced": poll["done_ns"] is not None}, open(dest, "w"), indent=2)
EOF
  stop "$i6_gw"; stop "$i6_s2"; stop "$i6_s1"; stop "$i6_s0"
  rm -rf "$work/data-i6"
fi

rm -rf "$work"/data-*

# ---------------------------------------------------------------- summary

python3 "$here/loadtest/benchmarks-summary.py" "$out"
log "reports in $out"
