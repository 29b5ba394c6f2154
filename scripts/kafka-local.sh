#!/usr/bin/env bash
# A real Apache Kafka broker on 127.0.0.1 for tests and local use: one KRaft node (broker + controller).
#
#   scripts/kafka-local.sh start     fetch Kafka through Maven (once, into the cache), format, start, wait until ready;
#                                    prints the bootstrap address (host:port) on stdout
#   scripts/kafka-local.sh stop      graceful shutdown (SIGTERM; SIGKILL after 30 s)
#   scripts/kafka-local.sh crash     kill -9, then wait until the process is gone and its port is free
#   scripts/kafka-local.sh status    "running 127.0.0.1:PORT (pid N)" or "stopped" (exit 1)
#   scripts/kafka-local.sh address   the bootstrap address of this instance
#   scripts/kafka-local.sh reset     stop and delete this instance's data
#
# Environment:
#   KAFKA_STATE   this instance's directory (config, data, pid, log); default .cache/kafka/broker.
#                 Several instances run side by side with different KAFKA_STATE.
#   KAFKA_PORT    broker port for a new instance; default: a free port chosen by the OS. The port is kept in
#                 KAFKA_STATE, so a restart (after stop or crash) keeps both the address and the data.
#   KAFKA_CACHE   where the jars are kept; default .cache/kafka (gitignored).
#   KAFKA_JVM_OPTS  JVM options for the broker and the format tool; default "-XX:TieredStopAtLevel=1
#                 -XX:+UseSerialGC" (quick to start, for tests); "-XX:+UseSerialGC" for benchmarks (full JIT).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
KAFKA_VERSION=4.1.1
LOG4J_VERSION=2.24.3
# Pinned: the bare `dependency:` prefix resolves to an old plugin (2.8) on some Maven installs.
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
CACHE="${KAFKA_CACHE:-$ROOT/.cache/kafka}"
STATE="${KAFKA_STATE:-$CACHE/broker}"
LIBS="$CACHE/libs-$KAFKA_VERSION"

# A test broker starts often and handles little: C1 only (no C2 compiler) and the serial collector take a start
# from ~35 s to ~15 s on a loaded 2-core machine. For benchmarks, KAFKA_JVM_OPTS=-XX:+UseSerialGC (full JIT).
JVM_OPTS="${KAFKA_JVM_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"

die() { echo "kafka-local: $*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != "Z" ]; }
read_pid() { cat "$STATE/pid" 2>/dev/null || true; }
prop() { sed -n "s/^$1=//p" "$STATE/server.properties"; }
broker_port() { prop listeners | sed 's/.*PLAINTEXT:\/\/127.0.0.1:\([0-9]*\).*/\1/'; }
controller_port() { prop listeners | sed 's/.*CONTROLLER:\/\/127.0.0.1:\([0-9]*\).*/\1/'; }

fetch() {
  [ -f "$LIBS/.complete" ] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch Kafka $KAFKA_VERSION"
  command -v java >/dev/null || die "Java 17 or newer is needed to run Kafka $KAFKA_VERSION"
  mkdir -p "$CACHE"
  cat >"$CACHE/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tapedeck</groupId><artifactId>kafka-local</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  echo "kafka-local: fetching Apache Kafka $KAFKA_VERSION through Maven into $CACHE" >&2
  rm -rf "$LIBS.tmp"
  mvn -B -q -f "$CACHE/pom.xml" -Dmaven.repo.local="$CACHE/m2" "$DEPENDENCY_PLUGIN:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp" >&2 || die "Maven could not fetch Kafka $KAFKA_VERSION (see above)"
  touch "$LIBS.tmp/.complete"
  rm -rf "$LIBS" && mv "$LIBS.tmp" "$LIBS"
}

configure() {
  [ -f "$STATE/server.properties" ] && return 0
  mkdir -p "$STATE"
  local port="${KAFKA_PORT:-$(free_port)}" cport
  cport="$(free_port)"
  while [ "$cport" = "$port" ]; do cport="$(free_port)"; done
  cat >"$STATE/server.properties.tmp" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$STATE/data
num.partitions=1
offsets.topic.num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# A single node: a consumer group starts at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
# Tests use short consumer sessions so a killed worker's partitions move on quickly.
group.min.session.timeout.ms=1000
# Restart after a kill -9 waits until the old incarnation is fenced: 3 s instead of the default 9 s.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=1000
auto.create.topics.enable=false
EOF
  mv "$STATE/server.properties.tmp" "$STATE/server.properties"
  cat >"$STATE/log4j2.properties" <<'EOF'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = info
logger.apache.name = org.apache.kafka
logger.apache.level = warn
EOF
}

format_storage() {
  [ -f "$STATE/data/meta.properties" ] && return 0
  local id
  # A cluster id as StorageTool random-uuid makes one (16 random bytes, base64url, not starting with "-"),
  # without starting a JVM for it.
  id="$(node -e 'const c=require("crypto");let s;do s=c.randomBytes(16).toString("base64url");while(s.startsWith("-"));console.log(s)')"
  java $JVM_OPTS -cp "$LIBS/*" kafka.tools.StorageTool format -t "$id" -c "$STATE/server.properties" >"$STATE/format.log" 2>&1 \
    || { cat "$STATE/format.log" >&2; die "formatting $STATE/data failed"; }
}

wait_gone() {
  local pid="$1" port="$2" i
  for i in $(seq 1 300); do
    if ! pid_alive "$pid" && ! port_open "$port"; then return 0; fi
    sleep 0.1
  done
  die "pid $pid or port $port still busy after 30 s"
}

start() {
  local pid
  pid="$(read_pid)"
  if [ -f "$STATE/server.properties" ] && pid_alive "$pid"; then echo "127.0.0.1:$(broker_port)"; return 0; fi
  fetch
  configure
  format_storage
  local port log from i
  port="$(broker_port)"
  port_open "$port" && die "port $port is taken by another process"
  log="$STATE/server.log"
  touch "$log"
  from=$(( $(wc -c <"$log") + 1 ))
  # setsid: the broker outlives this script and is not killed with the caller's process group.
  setsid nohup java -Xms128m -Xmx512m $JVM_OPTS -Dlog4j2.configurationFile="$STATE/log4j2.properties" \
    -cp "$LIBS/*" kafka.Kafka "$STATE/server.properties" >>"$log" 2>&1 </dev/null &
  echo $! >"$STATE/pid"
  for i in $(seq 1 600); do
    if tail -c "+$from" "$log" | grep -q 'Kafka Server started'; then
      port_open "$port" && { echo "127.0.0.1:$port"; return 0; }
    fi
    if ! pid_alive "$(read_pid)"; then tail -c "+$from" "$log" | tail -20 >&2; die "the broker exited during start (log: $log)"; fi
    sleep 0.1
  done
  die "the broker did not become ready within 60 s (log: $log)"
}

stop() {
  local pid port i
  pid="$(read_pid)"
  [ -f "$STATE/server.properties" ] || return 0
  port="$(broker_port)"
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 300); do pid_alive "$pid" || break; sleep 0.1; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  fi
  wait_gone "$pid" "$port"
  wait_gone "$pid" "$(controller_port)"
  rm -f "$STATE/pid"
}

crash() {
  local pid
  pid="$(read_pid)"
  pid_alive "$pid" || die "no broker running for $STATE"
  kill -KILL "$pid"
  wait_gone "$pid" "$(broker_port)"
  wait_gone "$pid" "$(controller_port)"
  rm -f "$STATE/pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  crash) crash ;;
  status)
    if [ -f "$STATE/server.properties" ] && pid_alive "$(read_pid)"; then echo "running 127.0.0.1:$(broker_port) (pid $(read_pid))"; else echo stopped; exit 1; fi ;;
  address) [ -f "$STATE/server.properties" ] || die "no instance in $STATE"; echo "127.0.0.1:$(broker_port)" ;;
  reset) stop; rm -rf "$STATE" ;;
  fetch) fetch ;;
  *) echo "usage: scripts/kafka-local.sh start|stop|crash|status|address|reset|fetch" >&2; exit 2 ;;
esac
