#!/bin/sh
# Least-privilege tokens for an InfluxDB 2 that is already set up: one that may only write the bucket (the
# bridge's sink.token) and one that may only read it (Grafana's INFLUXDB_READ_TOKEN). Run where the `influx`
# CLI is configured with the admin token:
#   compose:  docker compose -f deploy/compose.yaml exec influxdb sh /campus-edge/influxdb/tokens.sh
#   services: called by setup.sh
set -eu
HOST=${INFLUXDB_HOST:-http://127.0.0.1:8086}
ORG=${INFLUXDB_ORG:-campus}
BUCKET=${INFLUXDB_BUCKET:-campus}
BUCKET_ID=$(influx bucket list --host "$HOST" --org "$ORG" --name "$BUCKET" --hide-headers | cut -f1)
echo "bridge (write) token, for sink.token:"
influx auth create --host "$HOST" --org "$ORG" --description campus-edge-bridge --write-bucket "$BUCKET_ID" \
  --hide-headers | cut -f3
echo "grafana (read) token, for INFLUXDB_READ_TOKEN:"
influx auth create --host "$HOST" --org "$ORG" --description grafana --read-bucket "$BUCKET_ID" \
  --hide-headers | cut -f3
