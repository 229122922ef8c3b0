#!/usr/bin/env bash
# Policy-review throughput (`make bench-review`): N generated tickets (default 1,000,000, a year
# of a mid-size help desk) with customers and lifecycle history, then, in one run:
#   score   — `triage score` of the tickets (one engine run per ticket, one thread): the unit;
#   replay  — `triage replay` candidate vs baseline without history (two engine runs per ticket);
#   replay+ — the same with lifecycle history (plus two SLA projections per ticket), 1 thread
#             and all cores;
#   report  — `triage report` over the triaged records and their history.
# Prints wall and CPU seconds, tickets/s and peak RSS, and each step's CPU time as a ratio of
# `score`'s, measured in the same run. Data in $BENCH_DIR (default a temporary directory).
set -euo pipefail
N=${BENCH_TICKETS:-1000000}
T=${TRIAGE_BIN:-target/release/triage}
RULES=config/rules.toml
DIR=${BENCH_DIR:-$(mktemp -d)}
[ -x "$T" ] || { echo "build $T first (cargo build --release --bin triage)"; exit 2; }
C=$((N / 10 > 10 ? N / 10 : 10))
echo "generating $N tickets, $C customers, lifecycle history in $DIR"
"$T" gen tickets --count "$N" --customers "$C" --out "$DIR/t.jsonl"
"$T" gen customers --count "$C" --out "$DIR/c.jsonl"
"$T" gen lifecycle --count "$N" --customers "$C" --out "$DIR/l.jsonl"
# The candidate: churning customers at least P2, standard P2 first response 2h instead of 4h.
python3 - "$RULES" "$DIR/cand.toml" <<'PY'
import sys
s = open(sys.argv[1]).read()
anchor = '[[overrides]]\nname = "explicit escalation by an account manager"'
assert anchor in s
s = s.replace(anchor, '[[overrides]]\nname = "churning customers: at least P2"\nwhen = { lifecycle = "churning" }\nfloor = "P2"\n\n' + anchor)
old = 'targets.P2 = { first_response = "4h", resolution = "16h" }'
assert old in s
s = s.replace(old, 'targets.P2 = { first_response = "2h", resolution = "16h" }')
open(sys.argv[2], "w").write(s)
PY
run() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$DIR/time.$name" "$@" > "$DIR/out.$name"
}
# The triaged records the report reads (not timed: writing 1 GB is not triage).
"$T" score --rules $RULES --customers "$DIR/c.jsonl" --now 2026-11-02T12:00:00Z < "$DIR/t.jsonl" > "$DIR/triaged.jsonl"
run score sh -c "'$T' score --rules $RULES --customers '$DIR/c.jsonl' --now 2026-11-02T12:00:00Z < '$DIR/t.jsonl' > /dev/null"
run replay "$T" replay --rules "$DIR/cand.toml" --baseline $RULES --tickets "$DIR/t.jsonl" --customers "$DIR/c.jsonl" --json
run replay_life_1 "$T" replay --rules "$DIR/cand.toml" --baseline $RULES --tickets "$DIR/t.jsonl" --customers "$DIR/c.jsonl" --lifecycle "$DIR/l.jsonl" --threads 1 --json
run replay_life "$T" replay --rules "$DIR/cand.toml" --baseline $RULES --tickets "$DIR/t.jsonl" --customers "$DIR/c.jsonl" --lifecycle "$DIR/l.jsonl" --json --html "$DIR/replay.html"
run report "$T" report --rules $RULES --triaged "$DIR/triaged.jsonl" --lifecycle "$DIR/l.jsonl" --json --html "$DIR/report.html"
cmp -s "$DIR/out.replay_life_1" "$DIR/out.replay_life" || { echo "replay differs between 1 and all threads"; exit 1; }
python3 - "$DIR" "$N" "$(nproc)" <<'PY'
import sys
d, n, cores = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def t(name):
    wall, user, sys_, rss = open(f"{d}/time.{name}").read().split()
    return float(wall), float(user) + float(sys_), int(rss) // 1024
base = t("score")[1]
print(f"\n{n:,} tickets, {cores} cores")
print(f"{'step':<34}{'wall s':>8}{'CPU s':>8}{'tickets/s':>11}{'CPU × score':>13}{'RSS MB':>8}")
for name, label in [("score", "score (1 engine run, 1 thread)"), ("replay", "replay, no history"),
                    ("replay_life_1", "replay + lifecycle, 1 thread"), ("replay_life", f"replay + lifecycle, {cores} threads"),
                    ("report", "report + lifecycle")]:
    wall, cpu, rss = t(name)
    print(f"{label:<34}{wall:>8.1f}{cpu:>8.1f}{n / wall:>11,.0f}{cpu / base:>13.2f}{rss:>8}")
PY
