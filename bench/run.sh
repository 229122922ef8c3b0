#!/usr/bin/env bash
# `make bench`: the service against the ceiling Kafka sets on this machine, in one run.
#
#   bench/run.sh                 # 1,000,000-ticket backlog (several minutes)
#   BENCH_QUICK=1 bench/run.sh   # ~1 minute version
#
# Starts a local Apache Kafka broker (KRaft, one node, from the jars `make kafka` installs),
# preloads the same backlog of generated tickets (JSON and Avro), then:
#   1. passthrough   bare consume → produce, the service's client settings and offset handling
#   2. triage JSON   `triage run`, JSON in/out, 1,000,000 customers loaded
#   3. triage Avro   `triage run`, Avro in/out (Confluent frames), same customers
#   4. latency       open-loop producer at 50% of the triage JSON drain rate (also at 10% and
#                    at 500/s), the same rate for both pipelines; CreateTime → arrival on the
#                    output topic, p50/p99/p99.9, passthrough and triage. (Until 2026-12-04 the
#                    fractions were of the passthrough rate, which puts "50 %" above what
#                    triage sustains: it measured a queue, not a latency.)
#   5. memory        VmRSS/VmHWM of the service: after loading the customers, while draining
#   6. back-pressure the JSON backlog drained again with a small max_in_flight (BENCH_BP_MAX,
#                    default 1000) so that back-pressure engages all the time, once with
#                    back_pressure = "hold" and once with "pause": rate, time held, and bytes
#                    the consumer fetched per input byte (what pausing fetches twice).
#                    BENCH_BP=0 skips it.
# Each latency point runs on a fresh broker (the drains leave gigabytes in its log).
# Each drain is measured by counting records on the output topics as they arrive (the first
# and last arrival time the drain). Prints a table and writes $BENCH_OUT/summary.md and
# results.env. Bounded in time (watchdog), never fails on a number.
#
# Settings (environment): BENCH_QUICK, BENCH_TICKETS, BENCH_CUSTOMERS, BENCH_PARTITIONS,
# BENCH_BAD_FRACTION, BENCH_LATENCY_SECONDS, BENCH_LATENCY_FRACTIONS ("0.5 0.1 500": fractions of
# the rate BENCH_LATENCY_BASE drains — json (default) or passthrough — or records/s when
# above 1), BENCH_OUT,
# BENCH_MAX_SECONDS (watchdog), BENCH_NO_BUILD=1, TRIAGE_KAFKA_DIR, BENCH_PERF=1 (record each drain with
# `perf record -g` into $BENCH_OUT/perf-NAME.data; read with `perf report -i`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
  N=${BENCH_TICKETS:-100000}
  LAT_SECONDS=${BENCH_LATENCY_SECONDS:-6}
  LAT_FRACTIONS=${BENCH_LATENCY_FRACTIONS:-0.5}
  WATCHDOG=${BENCH_MAX_SECONDS:-300}
else
  N=${BENCH_TICKETS:-1000000}
  LAT_SECONDS=${BENCH_LATENCY_SECONDS:-30}
  LAT_FRACTIONS=${BENCH_LATENCY_FRACTIONS:-0.5 0.1 500}
  WATCHDOG=${BENCH_MAX_SECONDS:-2400}
fi
CUSTOMERS=${BENCH_CUSTOMERS:-1000000}
PARTITIONS=${BENCH_PARTITIONS:-4}
BAD=${BENCH_BAD_FRACTION:-0.005}
KAFKA_DIR=${TRIAGE_KAFKA_DIR:-$HOME/.cache/triage/kafka}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_OUT:-$ROOT/target/bench/$STAMP}
BIN=$ROOT/target/release
mkdir -p "$OUT"

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

if [ ! -f "$KAFKA_DIR/VERSION" ]; then
  log "Apache Kafka is not installed in $KAFKA_DIR: run \`make kafka\` (or set TRIAGE_KAFKA_DIR)"
  exit 1
fi
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  log "building release binaries"
  cargo build --release --locked --bin triage --bin passthrough --bin benchctl >&2
fi

# ------------------------------------------------------------------ processes and cleanup
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM
# Watchdog: the whole run is bounded.
( sleep "$WATCHDOG"; log "watchdog: ${WATCHDOG}s elapsed, stopping"; kill -TERM $$ 2>/dev/null ) &
WATCHDOG_PID=$!
PIDS+=("$WATCHDOG_PID")

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    port_free "$p" && { echo "$p"; return; }
  done
}
# jget FILE KEY: a value from a one-line JSON object.
jget() { sed -n "s/.*\"$2\":\"\\{0,1\\}\\([^,\"}]*\\).*/\\1/p" "$1" | head -1; }
stop() { # stop PID: SIGTERM, wait up to 30 s, then SIGKILL
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
# cpu_ticks PID: user + system CPU time of PID so far, in clock ticks.
cpu_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# sample_rss PID FILE: "unix_ms rss_kb hwm_kb cpu_ticks broker_cpu_ticks" every 200 ms while
# PID lives.
sample_rss() {
  local pid=$1 file=$2
  while [ -r "/proc/$pid/status" ]; do
    awk -v t="$(date +%s%3N)" -v c="$(cpu_ticks "$pid")" -v b="$(cpu_ticks "$BROKER_PID")" \
      '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{if (r) print t, r, h, c, b}' \
      "/proc/$pid/status" >>"$file" 2>/dev/null || true
    sleep 0.2
  done
}
# http_get PORT PATH: the body of a GET on 127.0.0.1 (no curl needed).
http_get() (
  exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  sed '1,/^\r\{0,1\}$/d' <&3
)
# hist_mean FILE METRIC: mean of a Prometheus histogram (sum / count over all label sets).
hist_mean() {
  awk -v m="$2" '$1 ~ "^"m"_sum" {s += $2} $1 ~ "^"m"_count" {c += $2}
    END {if (c > 0) printf "%.6f\n", s / c; else print "n/a"}' "$1" 2>/dev/null || echo n/a
}
CLK_TCK=$(getconf CLK_TCK)
# cpu_per_record NAME: "service_us broker_us", CPU microseconds per record spent by the
# process under test and by the broker between the drain's first and last output record.
cpu_per_record() {
  local f l d
  f=$(( $(jget "$OUT/drain-$1.json" first_output_unix_us) / 1000 ))
  d=$(jget "$OUT/drain-$1.json" seconds)
  l=$(awk -v f="$f" -v d="${d:-0}" 'BEGIN{printf "%.0f", f + d * 1000}')
  awk -v f="$f" -v e="$l" -v n="$(jget "$OUT/drain-$1.json" count)" -v hz="$CLK_TCK" '
    $1 >= f && $1 <= e { if (t0 == "") { t0 = $1; c0 = $4; b0 = $5 } t1 = $1; c1 = $4; b1 = $5 }
    END {
      if (t1 > t0 && n > 0) {
        # the sampled window covers (t1 - t0) of the drain: scale to its records
        span = (e - f) > 0 ? (t1 - t0) / (e - f) : 1
        printf "%.1f %.1f\n", (c1 - c0) / hz * 1e6 / (n * span), (b1 - b0) / hz * 1e6 / (n * span)
      } else print "n/a n/a"
    }' "$OUT/rss-$1.txt" 2>/dev/null || echo "n/a n/a"
}

# ------------------------------------------------------------------ machine and broker
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
CORES=$(nproc)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
BROKER_VERSION="Apache Kafka $(cat "$KAFKA_DIR/VERSION")"
log "machine: $CORES cores, $CPU, load $LOAD_BEFORE; broker $BROKER_VERSION"
log "backlog $N tickets (bad fraction $BAD), $CUSTOMERS customers, $PARTITIONS partitions; results in $OUT"

# start_broker TAG: a fresh Kafka node (KRaft, fresh data directory) on free ports; sets B and
# BROKER_PID (the JVM: kafka-node.sh execs it).
start_broker() {
  local i cport
  KPORT=$(free_port)
  cport=$(free_port)
  B=127.0.0.1:$KPORT
  KAFKA_HEAP_OPTS="-Xms1g -Xmx1g" scripts/kafka-node.sh "$KAFKA_DIR" "$OUT/kafka-$1" "$KPORT" "$cport" \
    --override message.max.bytes=2000000 --override log.retention.bytes=-1 >"$OUT/kafka-$1.log" 2>&1 &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  for i in $(seq 1 600); do
    grep -q "Kafka Server started" "$OUT/kafka-$1.log" 2>/dev/null && break
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "Kafka Server started" "$OUT/kafka-$1.log" 2>/dev/null \
    || { log "kafka did not start on $B; see $OUT/kafka-$1.log"; exit 1; }
  log "kafka ($1) on $B (pid $BROKER_PID)"
}
start_broker drains

ctl() { "$BIN/benchctl" "$@"; }
P=(p1 p2 p3 p4)
topics() { local pre=$1 t; for t in "${P[@]}"; do printf '%s.%s ' "$pre" "$t"; done; }
csv() { local IFS=,; echo "$*"; }

ctl topics --brokers "$B" --partitions "$PARTITIONS" \
  bench.in.json bench.in.avro $(topics bench.pt) $(topics bench.json) $(topics bench.avro) \
  bench.json.dlq bench.avro.dlq bench.pt.dlq >/dev/null
ctl topics --brokers "$B" --partitions 1 bench.customers >/dev/null

# ------------------------------------------------------------------ data
log "generating $CUSTOMERS customers"
"$BIN/triage" gen customers --count "$CUSTOMERS" --seed 1 --out "$OUT/customers.jsonl"
log "preloading $N JSON tickets"
ctl load --brokers "$B" --topic bench.in.json --count "$N" --format json --seed 1 \
  --customers "$CUSTOMERS" --bad-fraction "$BAD" --base now >"$OUT/load-json.json"
log "  $(cat "$OUT/load-json.json")"
log "preloading $N Avro tickets"
ctl load --brokers "$B" --topic bench.in.avro --count "$N" --format avro --seed 1 \
  --customers "$CUSTOMERS" --bad-fraction "$BAD" --base now >"$OUT/load-avro.json"
log "  $(cat "$OUT/load-avro.json")"
JSON_BYTES=$(jget "$OUT/load-json.json" bytes)
AVRO_BYTES=$(jget "$OUT/load-avro.json" bytes)

# ------------------------------------------------------------------ configs
rules_for() { # rules_for PREFIX FILE: the shipped rules with output topics PREFIX.p1..p4
  sed "s/topic = \"tickets\.triaged\.p/topic = \"$1.p/" config/rules.toml >"$2"
}
service_config() { # service_config NAME INPUT FORMAT PREFIX HTTPPORT
  local name=$1 input=$2 format=$3 prefix=$4 http=$5
  rules_for "$prefix" "$OUT/rules-$name.toml"
  cat >"$OUT/service-$name.toml" <<EOF
bootstrap_servers = "$B"
group_id = "bench-$name-$STAMP"
input_topic = "$input"
customers_topic = "bench.customers"
dead_letter_topic = "$prefix.dlq"
input_format = "$format"
rules_path = "rules-$name.toml"
customers_seed_path = "customers.jsonl"
customers_catch_up_timeout_seconds = 10
http_listen = "127.0.0.1:$http"
log_level = "warn"
EOF
}

# ------------------------------------------------------------------ throughput phases
# drain NAME OUTPUT_TOPICS INPUT_BYTES -- COMMAND…: start the counter, then the command; wait
# for the counter; stop the command. Samples the command's RSS.
drain() {
  local name=$1 outs=$2 in_bytes=$3
  shift 4
  log "$name: draining $N records"
  ctl count --brokers "$B" --topics "$outs" --expect "$N" --timeout "$((WATCHDOG / 3))" \
    --idle 10 --input-bytes "$in_bytes" --watermarks >"$OUT/drain-$name.json" 2>"$OUT/count-$name.log" &
  local counter=$!
  PIDS+=("$counter")
  local t0
  t0=$(date +%s%3N)
  (cd "$OUT" && exec "$@") >"$OUT/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  echo "$t0" >"$OUT/start-$name.ms"
  sample_rss "$pid" "$OUT/rss-$name.txt" &
  PIDS+=("$!")
  local perf=
  if [ "${BENCH_PERF:-0}" = 1 ]; then
    perf record -F 499 -g -p "$pid" -o "$OUT/perf-$name.data" >"$OUT/perf-$name.log" 2>&1 &
    perf=$!
    PIDS+=("$perf")
  fi
  wait "$counter" || true
  sleep 1.5 # one more statistics interval (1 s in the back-pressure runs)
  # The service's own view of the drain (delivery and processing histograms).
  local port
  port=$(sed -n 's/^http_listen = "127.0.0.1:\([0-9]*\)"/\1/p' "$OUT/service-$name.toml" 2>/dev/null || true)
  [ -n "$port" ] && http_get "$port" /metrics >"$OUT/metrics-$name.txt" 2>/dev/null || true
  if [ -n "$perf" ]; then
    kill -INT "$perf" 2>/dev/null || true
    wait "$perf" 2>/dev/null || true
  fi
  stop "$pid"
  log "$name: $(cat "$OUT/drain-$name.json")"
}

HP=$(free_port)
service_config pt bench.in.json json bench.pt "$HP" # passthrough reads the same kind of file
service_config json bench.in.json json bench.json "$(free_port)"
service_config avro bench.in.avro avro bench.avro "$(free_port)"

# A drained phase's topics are deleted (disk and page cache for the next phase).
forget() { ctl topics --brokers "$B" --delete "$@" >/dev/null 2>&1 || true; }
drain passthrough "$(csv $(topics bench.pt))" "$JSON_BYTES" -- \
  "$BIN/passthrough" --config "service-pt.toml" --output-topics "$(csv $(topics bench.pt))"
forget $(topics bench.pt)
drain json "$(csv $(topics bench.json) bench.json.dlq)" "$JSON_BYTES" -- \
  "$BIN/triage" run --config "service-json.toml"
forget $(topics bench.json) bench.json.dlq
BP_MAX=${BENCH_BP_MAX:-1000}
BP_MODES=
if [ "${BENCH_BP:-1}" = 1 ]; then
  BP_MODES="hold pause"
  for mode in $BP_MODES; do
    service_config "bp-$mode" bench.in.json json "bench.bp$mode" "$(free_port)"
    printf 'max_in_flight = %s\nback_pressure = "%s"\n' "$BP_MAX" "$mode" >>"$OUT/service-bp-$mode.toml"
    sed -i "s/^group_id = .*/group_id = \"bench-bp-$mode-$STAMP\"/" "$OUT/service-bp-$mode.toml"
    ctl topics --brokers "$B" --partitions "$PARTITIONS" $(topics "bench.bp$mode") "bench.bp$mode.dlq" >/dev/null
    # Statistics every second, so that the fetched bytes are complete when scraped.
    drain "bp-$mode" "$(csv $(topics "bench.bp$mode") "bench.bp$mode.dlq")" "$JSON_BYTES" -- \
      env TRIAGE_LIBRDKAFKA_STATISTICS_INTERVAL_MS=1000 "$BIN/triage" run --config "service-bp-$mode.toml"
    forget $(topics "bench.bp$mode") "bench.bp$mode.dlq"
  done
fi
forget bench.in.json
drain avro "$(csv $(topics bench.avro) bench.avro.dlq)" "$AVRO_BYTES" -- \
  "$BIN/triage" run --config "service-avro.toml"
forget bench.in.avro $(topics bench.avro) bench.avro.dlq

# ------------------------------------------------------------------ latency
LAT_BASE=${BENCH_LATENCY_BASE:-json}
BASE_RATE=$(jget "$OUT/drain-$LAT_BASE.json" rate)
BASE_RATE=${BASE_RATE:-0}
wait_ready() { # wait_ready URL SECONDS
  local i
  for i in $(seq 1 $(($2 * 5))); do
    "$BIN/triage" healthcheck --url "$1" --timeout-seconds 1 >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}
latency() { # latency NAME RATE INPUT OUTPUTS READY_URL -- COMMAND…
  local name=$1 rate=$2 input=$3 outs=$4 url=$5
  shift 6
  (cd "$OUT" && exec "$@") >"$OUT/lat-$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  if [ -n "$url" ]; then
    wait_ready "$url" 120 || log "latency $name: not ready after 120 s (measuring anyway)"
  fi
  # (benchctl latency sends probes until the pipeline answers)
  log "latency $name: $rate records/s for ${LAT_SECONDS}s"
  ctl latency --brokers "$B" --input "$input" --outputs "$outs" --rate "$rate" \
    --seconds "$LAT_SECONDS" --warmup 2 --format json --seed 7 --customers "$CUSTOMERS" \
    >"$OUT/latency-$name.json" 2>"$OUT/latency-$name.err" || true
  stop "$pid"
  log "latency $name: $(cat "$OUT/latency-$name.json")"
}
k=0
LAT_ROWS=()
for f in $LAT_FRACTIONS; do
  k=$((k + 1))
  # A fraction of the base pipeline's drain rate, or (above 1) records/s.
  rate=$(awk -v r="$BASE_RATE" -v f="$f" 'BEGIN{x = (f > 1) ? int(f) : int(r * f); if (x < 100) x = 100; print x}')
  # Each point on a fresh broker, so that no phase measures what an earlier one left behind.
  stop "$BROKER_PID"
  start_broker "lat$k"
  ctl topics --brokers "$B" --partitions "$PARTITIONS" bench.lat$k.in.pt bench.lat$k.in.triage \
    $(topics bench.lat$k.pt) $(topics bench.lat$k.triage) bench.lat$k.pt.dlq bench.lat$k.triage.dlq >/dev/null
  ctl topics --brokers "$B" --partitions 1 bench.customers >/dev/null
  service_config "latpt$k" "bench.lat$k.in.pt" json "bench.lat$k.pt" "$(free_port)"
  service_config "lat$k" "bench.lat$k.in.triage" json "bench.lat$k.triage" "$(free_port)"
  latency "passthrough-$k" "$rate" "bench.lat$k.in.pt" "$(csv $(topics bench.lat$k.pt))" "" -- \
    "$BIN/passthrough" --config "service-latpt$k.toml" --output-topics "$(csv $(topics bench.lat$k.pt))"
  port=$(sed -n 's/^http_listen = "127.0.0.1:\([0-9]*\)"/\1/p' "$OUT/service-lat$k.toml")
  latency "triage-$k" "$rate" "bench.lat$k.in.triage" "$(csv $(topics bench.lat$k.triage) bench.lat$k.triage.dlq)" \
    "http://127.0.0.1:$port/readyz" -- "$BIN/triage" run --config "service-lat$k.toml"
  LAT_ROWS+=("$f:$rate:$k")
done

# ------------------------------------------------------------------ memory
# From the JSON drain's samples: "loaded" = the last sample before the first output record
# (customers seeded, nothing produced yet); "draining" = samples between the first and the
# last output record.
FIRST_US=$(jget "$OUT/drain-json.json" first_output_unix_us)
DRAIN_S=$(jget "$OUT/drain-json.json" seconds)
FIRST_MS=$((${FIRST_US:-0} / 1000))
END_MS=$(awk -v f="$FIRST_MS" -v d="${DRAIN_S:-0}" 'BEGIN{printf "%.0f", f + d * 1000}')
read -r RSS_LOADED RSS_DRAIN_MIN RSS_DRAIN_MAX HWM <<<"$(awk -v f="$FIRST_MS" -v e="$END_MS" '
  $1 < f {loaded = $2}
  $1 >= f && $1 <= e {if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2}
  {hwm = $3}
  END {printf "%d %d %d %d\n", loaded / 1024, min / 1024, max / 1024, hwm / 1024}' \
  "$OUT/rss-json.txt" 2>/dev/null || echo "0 0 0 0")"
AVRO_HWM=$(awk '{h=$3} END{printf "%d\n", h/1024}' "$OUT/rss-avro.txt" 2>/dev/null || echo 0)

# Mean time from hand-over to the producer to the broker's acknowledgement, and mean engine
# time per ticket, as the service measured them during its drain.
DELIV_JS=$(hist_mean "$OUT/metrics-json.txt" triage_delivery_seconds)
PROC_JS=$(hist_mean "$OUT/metrics-json.txt" triage_processing_seconds)
DELIV_AV=$(hist_mean "$OUT/metrics-avro.txt" triage_delivery_seconds)
PROC_AV=$(hist_mean "$OUT/metrics-avro.txt" triage_processing_seconds)
ms() { awk -v x="$1" 'BEGIN{ if (x == "n/a") print x; else printf "%.2f", x * 1000 }'; }
us() { awk -v x="$1" 'BEGIN{ if (x == "n/a") print x; else printf "%.1f", x * 1e6 }'; }
read -r CPU_PT CPU_PT_B <<<"$(cpu_per_record passthrough)"
read -r CPU_JS CPU_JS_B <<<"$(cpu_per_record json)"
read -r CPU_AV CPU_AV_B <<<"$(cpu_per_record avro)"

# ------------------------------------------------------------------ summary
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
r() { jget "$OUT/$1" "$2"; }
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
PT=$(r drain-passthrough.json rate)
JS=$(r drain-json.json rate)
AV=$(r drain-avro.json rate)
P99_PT=$(r latency-passthrough-1.json p99_ms)
P99_TR=$(r latency-triage-1.json p99_ms)
P99_DIFF=$(awk -v a="${P99_TR:-0}" -v b="${P99_PT:-0}" 'BEGIN{printf "%.2f", a - b}')
cat >"$OUT/results.env" <<EOF
date=$STAMP
cores=$CORES
cpu="$CPU"
load_before="$LOAD_BEFORE"
load_after="$LOAD_AFTER"
broker="$BROKER_VERSION"
tickets=$N
customers=$CUSTOMERS
partitions=$PARTITIONS
passthrough_rate=$PT
json_rate=$JS
avro_rate=$AV
passthrough_in_mbps=$(r drain-passthrough.json in_mbps)
json_in_mbps=$(r drain-json.json in_mbps)
avro_in_mbps=$(r drain-avro.json in_mbps)
json_over_passthrough=$(ratio "$JS" "$PT")
avro_over_json=$(ratio "$AV" "$JS")
latency_points="${LAT_ROWS[*]}"
p99_diff_first_point=$P99_DIFF
rss_loaded_mb=$RSS_LOADED
rss_drain_min_mb=$RSS_DRAIN_MIN
rss_drain_max_mb=$RSS_DRAIN_MAX
hwm_json_mb=$HWM
hwm_avro_mb=$AVRO_HWM
cpu_us_per_record_passthrough="$CPU_PT broker $CPU_PT_B"
cpu_us_per_record_json="$CPU_JS broker $CPU_JS_B"
cpu_us_per_record_avro="$CPU_AV broker $CPU_AV_B"
bp_hold_rate=$(r drain-bp-hold.json rate)
bp_pause_rate=$(r drain-bp-pause.json rate)
processing_mean_s_json=$PROC_JS
delivery_mean_s_json=$DELIV_JS
processing_mean_s_avro=$PROC_AV
delivery_mean_s_avro=$DELIV_AV
EOF
{
  echo "| measure | target | measured |"
  echo "|---|---|---|"
  echo "| passthrough drain (the ceiling) | | $PT tickets/s, $(r drain-passthrough.json in_mbps) MB/s in ($(r drain-passthrough.json count)/$N out) |"
  echo "| triage JSON drain | | $JS tickets/s, $(r drain-json.json in_mbps) MB/s in ($(r drain-json.json count)/$N out) |"
  echo "| triage Avro drain | | $AV tickets/s, $(r drain-avro.json in_mbps) MB/s in ($(r drain-avro.json count)/$N out) |"
  echo "| triage JSON / passthrough | ≥ 0.90 | $(ratio "$JS" "$PT") |"
  echo "| Avro / JSON | ≥ 1.0 | $(ratio "$AV" "$JS") |"
  echo "| service-side mean processing per ticket / mean delivery (JSON; Avro) | | $(us "$PROC_JS") µs / $(ms "$DELIV_JS") ms; $(us "$PROC_AV") µs / $(ms "$DELIV_AV") ms |"
  echo "| CPU per ticket, process + broker: passthrough / JSON / Avro | | $CPU_PT + $CPU_PT_B / $CPU_JS + $CPU_JS_B / $CPU_AV + $CPU_AV_B µs |"
  for row in "${LAT_ROWS[@]}"; do
    IFS=: read -r f rate k <<<"$row"
    at=$(awk -v f="$f" -v b="$LAT_BASE" 'BEGIN{print (f > 1) ? "fixed" : f " of " b}')
    pt=latency-passthrough-$k.json
    tr=latency-triage-$k.json
    d=$(awk -v a="$(r "$tr" p99_ms)" -v b="$(r "$pt" p99_ms)" 'BEGIN{printf "%.2f", a - b}')
    echo "| latency at $rate/s ($at): passthrough p50 / p99 / p99.9 | | $(r "$pt" p50_ms) / $(r "$pt" p99_ms) / $(r "$pt" p999_ms) ms ($(r "$pt" received)/$(r "$pt" sent) arrived) |"
    echo "| latency at $rate/s ($at): triage p50 / p99 / p99.9 | | $(r "$tr" p50_ms) / $(r "$tr" p99_ms) / $(r "$tr" p999_ms) ms ($(r "$tr" received)/$(r "$tr" sent) arrived) |"
    echo "| p99(triage) − p99(passthrough) at $rate/s | ≤ 2 ms | $d ms |"
  done
  for mode in $BP_MODES; do
    m=$OUT/metrics-bp-$mode.txt
    held=$(awk '$1 == "triage_backpressure_seconds_total" {printf "%.1f", $2}' "$m" 2>/dev/null)
    fetched=$(awk -v b="$JSON_BYTES" '$1 == "triage_input_received_bytes_total" && b > 0 {printf "%.3f", $2 / b}' "$m" 2>/dev/null)
    echo "| back-pressure \"$mode\", max_in_flight $BP_MAX: drain / time held / bytes fetched per input byte | | $(r "drain-bp-$mode.json" rate) tickets/s / ${held:-n/a} s / ${fetched:-n/a} ($(r "drain-bp-$mode.json" count)/$N out) |"
  done
  echo "| RSS with $CUSTOMERS customers loaded | ≤ 300 MB | $RSS_LOADED MB (peak VmHWM $HWM MB JSON, $AVRO_HWM MB Avro) |"
  echo "| RSS while draining (min – max) | flat | $RSS_DRAIN_MIN – $RSS_DRAIN_MAX MB |"
  echo
  echo "$N tickets ($(r load-json.json mean_bytes) B JSON / $(r load-avro.json mean_bytes) B Avro on average, bad fraction $BAD), $PARTITIONS partitions, $CUSTOMERS customers; $CORES cores ($CPU); $BROKER_VERSION; load average before $LOAD_BEFORE, after $LOAD_AFTER; $STAMP."
} >"$OUT/summary.md"
echo
cat "$OUT/summary.md"
log "details in $OUT"
