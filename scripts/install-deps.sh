#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, when missing:
# a C toolchain and headers for librdkafka (built from source by rdkafka-sys),
# promtool (package prometheus) for the alert tests, kcat for looking at topics,
# Java with Maven for the Apache Kafka broker the tests run on, and Chromium for the
# tests that open the replay and report pages headless.
set -euo pipefail
need=()
# Chromium with its fonts and software GL (fonts-liberation, libgl1-mesa-dri are only
# recommended by the package), so that headless pages render as on a desktop.
for pkg in build-essential pkg-config libssl-dev zlib1g-dev python3 prometheus kcat \
  chromium fonts-liberation libgl1-mesa-dri; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
# Java 17+ and Maven run the Apache Kafka broker of the tests (scripts/install-kafka.sh).
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing: ${need[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
