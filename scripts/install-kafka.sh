#!/usr/bin/env bash
# Installs an Apache Kafka 4.x broker (KRaft) from Maven Central jars into DIR,
# once: DIR/libs holds the runtime classpath, DIR/VERSION the Kafka version.
# No release tarball and no Docker are needed, only java and mvn.
#
#   scripts/install-kafka.sh VERSION DIR
#
# The published kafka_2.13 POM has no SLF4J binding (the release tarball adds
# one through a build setting), so log4j-slf4j-impl (the SLF4J 1.7 -> Log4j2
# bridge) is added here; without it the broker drops every log line, including
# the reason it refused to start. Run the broker with scripts/kafka-node.sh.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 VERSION DIR" >&2
  exit 2
fi
version="$1"
root="$2"
log4j_version="${LOG4J_VERSION:-2.25.5}"
dep_plugin="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

case "$version" in
  4.*) ;;
  *) echo "install-kafka: only Kafka 4.x is supported (got '$version')" >&2; exit 2 ;;
esac

if [ -f "$root/VERSION" ] && [ "$(cat "$root/VERSION")" = "$version" ] \
   && compgen -G "$root/libs/*.jar" >/dev/null; then
  echo "kafka $version already installed in $root"
  exit 0
fi

command -v java >/dev/null 2>&1 || { echo "install-kafka: java not found on PATH (need Java 17+)" >&2; exit 1; }
command -v mvn >/dev/null 2>&1 || { echo "install-kafka: mvn not found on PATH (need Maven 3.8+)" >&2; exit 1; }

echo "installing kafka $version into $root (from Maven Central)"
mkdir -p "$root"
root="$(cd "$root" && pwd)"
work="$(mktemp -d "$root/.install.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cat >"$work/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.triage</groupId>
  <artifactId>kafka-broker-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>org.apache.logging.log4j</groupId>
        <artifactId>log4j-bom</artifactId>
        <version>${log4j_version}</version>
        <type>pom</type>
        <scope>import</scope>
      </dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${version}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
    </dependency>
  </dependencies>
</project>
EOF

rm -rf "$root/libs.tmp"
if ! mvn -q -B -f "$work/pom.xml" "$dep_plugin:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$root/libs.tmp" >"$work/mvn.log" 2>&1; then
  tail -n 30 "$work/mvn.log" >&2
  rm -rf "$root/libs.tmp"
  echo "install-kafka: maven could not resolve kafka_2.13:$version (see above)" >&2
  exit 1
fi
if ! compgen -G "$root/libs.tmp/kafka_2.13-$version.jar" >/dev/null; then
  rm -rf "$root/libs.tmp"
  echo "install-kafka: kafka_2.13-$version.jar missing after download" >&2
  exit 1
fi

# Swap the new classpath in, then record the version (written last, so a
# half-finished install is never taken for a complete one).
rm -f "$root/VERSION"
if [ -d "$root/libs" ]; then
  mv "$root/libs" "$work/libs.old"
fi
mv "$root/libs.tmp" "$root/libs"
printf '%s\n' "$version" >"$root/VERSION.tmp"
mv "$root/VERSION.tmp" "$root/VERSION"
echo "kafka $version installed in $root ($(ls "$root/libs" | wc -l) jars)"
