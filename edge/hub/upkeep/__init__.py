"""Upkeep the campus can see (issue #14): maintenance by usage and calendar, repair requests, patrol views.

- ``config``: the hub config's ``maintenance:`` plans and ``upkeep:`` settings (schema);
- ``plans``: pure usage accounting (meter deltas, relay on-time) and due computation;
- ``store``: its tables in the hub's journal database;
- ``service``: the hub's hook (telemetry, states, events in; ``maintenance_due`` / ``repair_request`` out)
  and the functions the CLI and the console call (``record_service``, ``maintenance_view``, repairs);
- ``report``: the term report (md, csv, xlsx); ``sheet``: the daily patrol contact sheet.
"""
