#!/usr/bin/env bash
# Installs Apicurio Registry (a schema registry that serves the Confluent
# Schema Registry API at /apis/ccompat/v7) into DIR, once, from the
# `all` tar.gz that Maven Central serves for io.apicurio:apicurio-registry-app.
#
#   scripts/install-apicurio.sh VERSION DIR
#
# VERSION 2.6.x.Final runs on Java 17; 3.x needs Java 21+ (e.g. Java 25 in
# /usr/lib/jvm/temurin-25-jdk-amd64). Storage is in-memory (H2) by default.
# Start (foreground; ready when GET /apis/ccompat/v7/subjects answers 200):
#   java -Xmx512m -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port=PORT \
#        -jar DIR/dist/registry.jar
# 3.x also opens a management interface (health) on port 9000 unless given
#   -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port=PORT2
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 VERSION DIR" >&2
  exit 2
fi
version="$1"
root="$2"
dep_plugin="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
artifact="io.apicurio:apicurio-registry-app:$version:tar.gz:all"

if [ -f "$root/VERSION" ] && [ "$(cat "$root/VERSION")" = "$version" ] && [ -f "$root/dist/registry.jar" ]; then
  echo "apicurio-registry $version already installed in $root"
  exit 0
fi

command -v java >/dev/null 2>&1 || { echo "install-apicurio: java not found on PATH" >&2; exit 1; }
command -v mvn >/dev/null 2>&1 || { echo "install-apicurio: mvn not found on PATH (need Maven 3.8+)" >&2; exit 1; }
command -v tar >/dev/null 2>&1 || { echo "install-apicurio: tar not found on PATH" >&2; exit 1; }

echo "installing apicurio-registry $version into $root (from Maven Central, ~150 MB)"
mkdir -p "$root"
root="$(cd "$root" && pwd)"
work="$(mktemp -d "$root/.install.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if ! mvn -q -B "$dep_plugin:copy" -Dartifact="$artifact" -DoutputDirectory="$work/dl" \
      -Dmdep.overWriteReleases=true >"$work/mvn.log" 2>&1; then
  tail -n 20 "$work/mvn.log" >&2
  echo "install-apicurio: maven could not fetch $artifact (see above)" >&2
  exit 1
fi
mkdir "$work/app"
tar --no-same-owner -xzf "$work"/dl/*.tar.gz -C "$work/app"

# 3.x ships a Quarkus fast-jar (quarkus-run.jar), 2.x a legacy runner jar.
if [ -f "$work/app/quarkus-run.jar" ]; then
  launcher="quarkus-run.jar"
else
  launcher=""
  for f in "$work"/app/*-runner.jar; do
    if [ -f "$f" ]; then launcher="$(basename "$f")"; break; fi
  done
fi
[ -n "$launcher" ] && [ -f "$work/app/$launcher" ] \
  || { echo "install-apicurio: no quarkus-run.jar or *-runner.jar in $artifact" >&2; exit 1; }
# A symlink beside the real jar, so the manifest's relative Class-Path still resolves.
ln -s "$launcher" "$work/app/registry.jar"

rm -f "$root/VERSION"
if [ -d "$root/dist" ]; then
  mv "$root/dist" "$work/dist.old"
fi
mv "$work/app" "$root/dist"
printf '%s\n' "$version" >"$root/VERSION.tmp"
mv "$root/VERSION.tmp" "$root/VERSION"
echo "apicurio-registry $version installed in $root (start: java -jar $root/dist/registry.jar)"
