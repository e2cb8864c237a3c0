#!/usr/bin/env bash
# Captures what real Debezium 3.6.1 (embedded engine, JSON converter) writes for ../schema.sql, ../rows.sql (snapshot)
# and ../changes.sql (streaming), once per configuration in ./configs, into ../<config>.jsonl: one record per line,
# `{"topic", "key", "value"}` with key and value as Debezium's JSON text (null for a tombstone).
# Needs java 17+, mvn, psql and a Postgres with wal_level=logical; each run uses a fresh database `dbz_fixture`.
#   PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres PGPASSWORD=postgres ./capture.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$here")
libs=${DEBEZIUM_LIBS:-$HOME/.cache/strangler/debezium-3.6.1/libs}
if [ ! -f "$libs/.complete" ]; then
  mvn -q -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs"
  touch "$libs/.complete"
fi
db=dbz_fixture
for config in "$here"/configs/*.properties; do
  name=$(basename "$config" .properties)
  slot=dbz_fixture_${name//[^a-z0-9]/_}
  psql -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  psql -q -d $db -f "$out/schema.sql" -f "$out/rows.sql"
  props=$(mktemp)
  {
    cat "$here/common.properties" "$config"
    echo "database.hostname=${PGHOST:-127.0.0.1}"; echo "database.port=${PGPORT:-5432}"
    echo "database.user=${PGUSER:-postgres}"; echo "database.password=${PGPASSWORD:-}"; echo "database.dbname=$db"
    echo "slot.name=$slot"; echo "publication.name=$slot"
  } > "$props"
  fifo=$(mktemp -u); mkfifo "$fifo"
  java -cp "$libs/*" "$here/Capture.java" "$props" < "$fifo" > "$out/$name.raw" 2> "$out/$name.log" &
  pid=$!
  exec 7> "$fifo"
  # Streaming has begun once the slot is in use; the snapshot is read before that.
  until [ "$(psql -Atd $db -c "SELECT active FROM pg_replication_slots WHERE slot_name = '$slot'")" = t ]; do
    kill -0 $pid 2> /dev/null || { cat "$out/$name.log" >&2; exit 1; }
    sleep 1
  done
  sleep 2
  psql -q -o /dev/null -d $db -f "$out/changes.sql"
  # The engine delivers asynchronously: wait until the last change (scratch row 2) is out.
  until grep -q '"id":2}' <(grep scratch "$out/$name.raw" || true); do sleep 1; done
  sleep 2
  exec 7>&-
  wait $pid || true
  rm -f "$fifo" "$props" "$out/$name.log"
  psql -q -d $db -c "SELECT pg_drop_replication_slot('$slot')" > /dev/null
  # topic<TAB>key<TAB>value → JSON lines, key and value kept as the exact text Debezium wrote.
  python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    topic, key, value = line.rstrip("\n").split("\t")
    print(json.dumps({"topic": topic, "key": None if key == "null" else key, "value": None if value == "null" else value}, ensure_ascii=False))
' "$out/$name.raw" > "$out/$name.jsonl"
  rm -f "$out/$name.raw"
  echo "$name: $(wc -l < "$out/$name.jsonl") records"
done
psql -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
