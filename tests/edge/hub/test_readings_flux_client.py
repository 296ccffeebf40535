"""FluxReadings' plumbing through influxdb-client against a local HTTP server answering InfluxDB 2's
query API (POST /api/v2/query, annotated CSV). It proves the request (org, token, Flux text) and the
parsing of the answer into values at the edges; it cannot prove Flux semantics (no InfluxDB 2 here)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from edge.hub.readings import FluxReadings, Series

HOUR = 3_600_000
T0 = 1_796_054_400_000  # 2026-12-01 00:00 Asia/Shanghai


def csv_answer(rows: list[tuple[str, float]]) -> bytes:
    lines = ["#datatype,string,long,dateTime:RFC3339,double",
             "#group,false,false,false,false",
             "#default,_result,,,",
             ",result,table,_time,_value"]
    lines += [f",,0,{t},{v}" for t, v in rows]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class InfluxQueryApi(BaseHTTPRequestHandler):
    requests: list[dict] = []
    answer: bytes = b""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        url = urlparse(self.path)
        InfluxQueryApi.requests.append({"path": url.path, "query": parse_qs(url.query),
                                        "auth": self.headers.get("Authorization"), "flux": body["query"]})
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=utf-8")
        self.send_header("Content-Length", str(len(InfluxQueryApi.answer)))
        self.end_headers()
        self.wfile.write(InfluxQueryApi.answer)

    def log_message(self, *args) -> None:
        pass


def test_values_at_through_influxdb_client():
    server = ThreadingHTTPServer(("127.0.0.1", 0), InfluxQueryApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # hourly last values (window stops) in UTC: 01:00 and 02:00 local, then 03:00 local
        InfluxQueryApi.answer = csv_answer([("2026-11-30T17:00:00Z", 1001.0),
                                            ("2026-11-30T18:00:00Z", 1002.5),
                                            ("2026-11-30T19:00:00Z", 1004.0)])
        r = FluxReadings(f"http://127.0.0.1:{server.server_port}", "campus", "campus", "read-token",
                         "Asia/Shanghai")
        s = Series("mh", "meter-room", "meter-a", "electricity_meter")
        assert r.values_at(s, "energy_kwh", [T0, T0 + HOUR, T0 + 2 * HOUR + 1800_000, T0 + 5 * HOUR]) == [
            None, 1001.0, 1002.5, 1004.0]
        [req] = InfluxQueryApi.requests
        assert req["path"] == "/api/v2/query" and req["query"]["org"] == ["campus"]
        assert req["auth"] == "Token read-token"
        assert 'option location = timezone.location(name: "Asia/Shanghai")' in req["flux"]
        assert 'r.device == "meter-a" and r._field == "energy_kwh"' in req["flux"]
        InfluxQueryApi.answer = csv_answer([("2026-11-30T20:00:00Z", 42.0)])
        assert r.total(s, "screened", T0, T0 + HOUR) == 42.0
        assert "|> sum()" in InfluxQueryApi.requests[-1]["flux"]
        r.close()
    finally:
        server.shutdown()
