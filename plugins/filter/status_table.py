# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: status_table
short_description: The status of an app on every host, as one table
version_added: 0.5.0
description:
  - Turns what M(asgi.deploy.app_status) read on each app host, and what
    M(asgi.deploy.tls_certificates) read on each edge, into the lines the
    status playbook prints - one row per app host (current release, when and by
    whom deployed, the previous release, workers and their memory, uptime,
    restarts since the deploy, the health answer, the deploy lock), one per
    edge and domain (certificate expiry and issuer), then the last history
    lines of each app host.
positional: _input
options:
  _input:
    description: The RV(asgi.deploy.app_status#module:status) of each app host, by host name.
    type: dict
    required: true
  name:
    description: The app's name, for the title.
    type: str
    required: true
  certificates:
    description: The RV(asgi.deploy.tls_certificates#module:certificates) of each edge, by host name.
    type: dict
    default: {}
author:
  - asgi.deploy contributors (@asgi-deploy)
"""

EXAMPLES = r"""
- name: Print the status
  ansible.builtin.debug:
    msg: "{{ statuses | asgi.deploy.status_table(name='example', certificates=certs) }}"
"""

RETURN = r"""
_value:
  description: The table's lines.
  type: list
  elements: str
"""

import time

from ansible.errors import AnsibleFilterError

COLUMNS = ("host", "current", "deployed", "previous", "workers (RSS MiB)", "uptime", "restarts", "health", "packages",
           "lock")


def duration(seconds):
    if seconds is None:
        return "-"
    seconds = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return "%d %s" % (seconds // size, unit)
    return "%d s" % seconds


def workers(status):
    rows = status.get("workers") or []
    main = status.get("main") or {}
    if not main:
        return "stopped (%s)" % status.get("active", "?")
    if not rows:
        # A single-worker uvicorn serves from its main process.
        return "1: %s" % main.get("rss_mb")
    return "%d: %s" % (len(rows), " ".join(str(row.get("rss_mb")) for row in rows))


def health(status):
    answer = status.get("health") or {}
    if answer.get("status") is None:
        return "no answer: %s" % answer.get("error")
    return "%s in %s ms" % (answer["status"], answer.get("ms"))


def packages(status):
    """Whether the serving release's virtualenv holds what its requirements.lock records."""
    changes = status.get("packages")
    if changes is None:
        return "-"
    return "as recorded" if not changes else "changed by hand: %s" % ", ".join(changes)


def lock(status):
    held = status.get("lock")
    if not held:
        return "free"
    return "held by %s@%s pid %s (%s, %s)" % (
        held.get("user"), held.get("host"), held.get("pid"), held.get("playbook"), duration(held.get("age_s")))


def certificate(cert):
    if cert.get("not_after") is None:
        return "not read: %s" % cert.get("error")
    left = cert["not_after"] - time.time()
    # Caddy's own CA issues certificates for 12 hours: say hours, not 0 days.
    when = "in %d days" % (left // 86400) if left >= 2 * 86400 else "in %d h" % (left // 3600)
    day = time.strftime("%Y-%m-%d", time.gmtime(cert["not_after"]))
    return "expires %s, %s, issuer %s" % (day, when, cert.get("issuer"))


def row(host, status):
    deployed = status.get("deployed") or {}
    return (host, status.get("current") or "-",
            "%s by %s" % (deployed.get("time"), deployed.get("by")) if deployed else "(not in the history)",
            status.get("previous") or "-", workers(status), duration(status.get("uptime_s")),
            "-" if status.get("restarts") is None else str(status["restarts"]), health(status), packages(status),
            lock(status))


def table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(r, widths)).rstrip() for r in rows]


def history_line(record):
    line = "%s %s %s by %s (%s): %s -> %s in %s" % (
        record.get("time"), record.get("action"), record.get("result"), record.get("by"), record.get("playbook"),
        record.get("from") or "(none)", record.get("to") or "(none)", duration(record.get("seconds")))
    return line + ("; failed at %s" % record["step"] if record.get("step") else "")


def status_table(statuses, name, certificates=None):
    if not isinstance(statuses, dict) or not all(isinstance(s, dict) for s in statuses.values()):
        raise AnsibleFilterError("status_table: expected app_status's status by host, got %r" % (statuses,))
    lines = ["App %s" % name] + table([COLUMNS] + [row(host, statuses[host]) for host in sorted(statuses)])
    certs = [(edge, domain, cert) for edge in sorted(certificates or {})
             for domain, cert in sorted((certificates[edge] or {}).items())]
    if certs:
        lines += [""] + table([("edge", "domain", "certificate")] + [
            (edge, domain, certificate(cert)) for edge, domain, cert in certs])
    for host in sorted(statuses):
        records = statuses[host].get("history") or []
        lines += ["", "History on %s%s" % (host, ":" if records else ": (none)")]
        lines += ["  " + history_line(record) for record in records]
    return lines


class FilterModule(object):
    def filters(self):
        return {"status_table": status_table}
