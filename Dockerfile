# syntax=docker/dockerfile:1.7
# Quiver container image: the one quiver.jar with every role (standalone, shard, gateway, ctl, bench).
#
#   docker build -t quiver:local .
#   docker run --rm -p 8080:8080 quiver:local standalone --http-host 0.0.0.0
#
# Stage 1 runs the same Maven build as bin/quiver; stage 2 is a JRE, a non-root user and a small
# launcher (/opt/quiver/bin/quiver) that passes bin/quiver's JVM flags. The launcher is written below
# as a heredoc so that server/src/test/java/io/quiver/server/deploy/ can extract and run it without
# Docker (DockerfileTest, ComposeTopologyIT): keep the heredoc markers as they are.

ARG JAVA_VERSION=25

FROM maven:3.9-eclipse-temurin-${JAVA_VERSION} AS build
WORKDIR /src
COPY pom.xml ./
COPY proto proto
COPY cluster cluster
COPY shard shard
COPY gateway gateway
COPY loadtest loadtest
COPY server server
RUN --mount=type=cache,target=/root/.m2 mvn -B -ntp -q -DskipTests package \
 && cp server/target/quiver.jar /quiver.jar

FROM eclipse-temurin:${JAVA_VERSION}-jre AS runtime
ARG QUIVER_UID=10001
RUN groupadd --system --gid "${QUIVER_UID}" quiver \
 && useradd --system --uid "${QUIVER_UID}" --gid quiver --home-dir /var/lib/quiver --shell /usr/sbin/nologin quiver \
 && mkdir -p /var/lib/quiver/data \
 && chown -R quiver:quiver /var/lib/quiver
COPY --from=build /quiver.jar /opt/quiver/quiver.jar
COPY --chmod=0755 <<'QUIVER_LAUNCHER' /opt/quiver/bin/quiver
#!/usr/bin/env bash
# quiver (container image): runs /opt/quiver/quiver.jar in a role with bin/quiver's JVM flags.
# The image has a JRE and a built jar, so there is no JDK search and no build step here.
#   quiver ROLE [options]          standalone | shard | gateway | ctl | bench (ROLE --help lists options)
#   quiver healthcheck [live|ready] exit 0 when this container's /live (or /ready) answers 200
# Heap: QUIVER_HEAP (e.g. 1536m) when set, else a share of the container memory limit
# (-XX:MaxRAMPercentage); see docs/KUBERNETES.md for the sizing rule.
set -euo pipefail

jar="${QUIVER_JAR:-/opt/quiver/quiver.jar}"
java_home="${JAVA_HOME:-/opt/java/openjdk}"

# GET $2 on 127.0.0.1:$1 with bash's /dev/tcp (no curl in the image); true on HTTP 200.
http_ok() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    IFS=' ' read -r -t 5 _ status _ <&3 || exit 1
    [ "$status" = 200 ]
  ) 2>/dev/null
}

if [ "${1:-}" = healthcheck ]; then
  path="/${2:-live}"
  # A shard answers on its HTTP port, a gateway or standalone on the REST port.
  for port in "${QUIVER_SHARD_HTTP_PORT:-9200}" "${QUIVER_HTTP_PORT:-8080}"; do
    if http_ok "$port" "$path"; then exit 0; fi
  done
  echo "quiver healthcheck: no 200 from $path on ports ${QUIVER_SHARD_HTTP_PORT:-9200}, ${QUIVER_HTTP_PORT:-8080}" >&2
  exit 1
fi

# Same list as jvm_flags in bin/quiver (DockerfileTest keeps the two equal).
jvm_flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
  --add-exports java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.management/sun.management=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED -Dhazelcast.logging.type=slf4j)
major="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$java_home/release" 2>/dev/null || true)"
if [ "${major:-0}" -ge 24 ]; then
  jvm_flags+=(--sun-misc-unsafe-memory-access=allow)
fi

# No -Xms256m as in bin/quiver: it would refuse a heap below 256m (the preStop drain uses 192m).
if [ -n "${QUIVER_HEAP:-}" ]; then
  heap_flags=("-Xmx$QUIVER_HEAP")
else
  heap_flags=(-XX:InitialRAMPercentage=25 -XX:MaxRAMPercentage=70)
fi

# shellcheck disable=SC2086
exec "$java_home/bin/java" "${heap_flags[@]}" -XX:+ExitOnOutOfMemoryError "${jvm_flags[@]}" ${QUIVER_JAVA_OPTS:-} -jar "$jar" "$@"
QUIVER_LAUNCHER

ENV PATH="/opt/quiver/bin:${PATH}" \
    QUIVER_DATA_DIR=/var/lib/quiver/data
USER 10001:10001
WORKDIR /var/lib/quiver
VOLUME ["/var/lib/quiver/data"]
# REST, public gRPC, shard internal gRPC, shard HTTP (/live, /ready, /metrics), Hazelcast.
EXPOSE 8080 9090 9100 9200 5701
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["quiver", "healthcheck", "live"]
ENTRYPOINT ["quiver"]
CMD ["--help"]
