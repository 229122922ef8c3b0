#!/usr/bin/env bash
# Static checks of the deploy kit (what the Makefile calls):
#   - promtool check rules   deploy/prometheus/alerts.yml
#   - promtool test rules    deploy/prometheus/alerts.test.yml   (every alert fires / stays silent)
#   - promtool check config  deploy/prometheus/prometheus.yml    (also loads alerts.yml)
#   - every PromQL query of deploy/grafana/dashboard.json parses (promtool, via python3)
#   - optional, when the tool is on PATH: hadolint on the Dockerfile, `docker compose config`
#
# promtool comes from Debian's `prometheus` package and is installed with apt-get when missing
# (with sudo when not root). Set PROMTOOL=/path/to/promtool to use another one.
# Usage: deploy/check.sh            exit 0 when every check passes
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

passed=0
failed=0
run() { # run NAME CMD...: run a check, count it, keep going on failure
    local name="$1"; shift
    echo "--- $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        echo "FAILED: $name" >&2
        failed=$((failed + 1))
    fi
}

ensure_promtool() {
    if [[ -n "${PROMTOOL:-}" ]]; then return 0; fi
    if command -v promtool >/dev/null 2>&1; then PROMTOOL=promtool; return 0; fi
    echo "promtool not found: installing Debian's prometheus package (it carries promtool)"
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
            echo "error: promtool is missing and not root without sudo; install it with" >&2
            echo "  apt-get install -y --no-install-recommends prometheus" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    PROMTOOL=promtool
    command -v promtool >/dev/null 2>&1 || { echo "error: promtool still missing after apt-get" >&2; exit 1; }
}

# Write every PromQL expression of the dashboard into a rules file (Grafana variables replaced
# by sample values) so that promtool parses them all.
check_dashboard_queries() {
    local tmp rc
    tmp="$(mktemp -d)"
    python3 - deploy/grafana/dashboard.json "$tmp/dashboard-queries.yml" <<'PY' || { rm -rf "$tmp"; return 1; }
import json, sys
dash = json.load(open(sys.argv[1]))
subst = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h",
         "$priority": ".*", "$input_topic": "tickets.raw"}
exprs = []
def walk(panels):
    for p in panels:
        walk(p.get("panels", []))
        for t in p.get("targets", []):
            e = t.get("expr")
            if e:
                for k in sorted(subst, key=len, reverse=True):
                    e = e.replace(k, subst[k])
                exprs.append((p.get("title", "?"), e))
walk(dash.get("panels", []))
if not exprs:
    sys.exit("dashboard has no queries")
with open(sys.argv[2], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (title, e) in enumerate(exprs):
        f.write(f"      - record: dashboard:query_{i}\n        expr: {json.dumps(e)}\n")
print(f"{len(exprs)} dashboard queries")
PY
    "$PROMTOOL" check rules "$tmp/dashboard-queries.yml"
    rc=$?
    rm -rf "$tmp"
    return $rc
}

ensure_promtool
"$PROMTOOL" --version 2>&1 | head -n 1

run "promtool check rules"  "$PROMTOOL" check rules deploy/prometheus/alerts.yml
run "promtool test rules"   "$PROMTOOL" test rules deploy/prometheus/alerts.test.yml
run "promtool check config" "$PROMTOOL" check config deploy/prometheus/prometheus.yml

if command -v python3 >/dev/null 2>&1; then
    run "dashboard queries parse" check_dashboard_queries
else
    echo "--- dashboard queries: skipped (no python3)"
fi

if command -v hadolint >/dev/null 2>&1; then
    run "hadolint Dockerfile" hadolint deploy/Dockerfile
else
    echo "--- hadolint: skipped (not installed)"
fi

if docker compose version >/dev/null 2>&1; then
    run "docker compose config" docker compose -f deploy/compose.yaml config -q
elif command -v docker-compose >/dev/null 2>&1 && docker-compose version 2>/dev/null | grep -q 'v2\.'; then
    run "docker compose config" docker-compose -f deploy/compose.yaml config -q
else
    echo "--- docker compose config: skipped (compose v2 not installed)"
fi

echo "deploy checks: $passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
