#!/usr/bin/env bash
# Installs the tansu Kafka-protocol broker (used by the integration tests and
# the benchmark) into a cache directory outside the clone, once. A cold
# install compiles for ~13 minutes; later runs only check the version.
set -euo pipefail
version="$1"
root="$2"
bin="$root/bin/tansu"
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "$version"; then
  exit 0
fi
echo "installing tansu $version into $root (one time; takes a while)"
mkdir -p "$root"
cargo install tansu --version "=$version" --locked --features dynostore,libsql --root "$root"
"$bin" --version | grep -q "$version" || { echo "tansu at $bin is not version $version" >&2; exit 1; }
