#!/bin/sh
# One-time InfluxDB 2 setup for plain system services (InfluxData's apt repository: influxdb2, influxdb2-cli):
#   systemctl enable --now influxdb
#   INFLUXDB_ADMIN_PASSWORD=... sh deploy/influxdb/setup.sh
# Prints two tokens (tokens.sh): one that may only write (the bridge's sink.token) and one that may only read
# (Grafana's INFLUXDB_TOKEN). The compose stack does the same through DOCKER_INFLUXDB_INIT_* instead.
set -eu
: "${INFLUXDB_ADMIN_PASSWORD:?set INFLUXDB_ADMIN_PASSWORD}"
HOST=${INFLUXDB_HOST:-http://127.0.0.1:8086}
# retention 0: keep everything (audits); use e.g. 400d to keep a school year and a bit.
influx setup --host "$HOST" --org campus --bucket campus --username admin \
  --password "$INFLUXDB_ADMIN_PASSWORD" --retention "${INFLUXDB_RETENTION:-0}" --force
INFLUXDB_HOST="$HOST" sh "$(dirname "$0")/tokens.sh"
