# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: uvicorn_workers
short_description: Number of uvicorn workers that fit in a host's memory
version_added: 0.1.0
description:
  - Computes how many C(uvicorn --workers) processes a host can run without
    overcommitting its RAM.
  - "workers = floor((memory_mb * utilization - other apps - reserve_mb) / per_worker_mb),
    then capped by C(cpus * workers_per_cpu) when O(cpus) is given and by
    O(max_workers) when given, and never below O(min_workers)."
  - Guarantee, for every value it returns,
    C(other apps + reserve_mb + workers * per_worker_mb <= memory_mb * utilization).
    When not even O(min_workers) fit, it fails and says how much memory the
    host has, how much the workers need, and which variable to change.
  - Feed it the memory the host can really use, for example
    C(asgi_capacity.memory_mb) from M(asgi.deploy.capacity_facts), which is
    lowered by cgroup limits. Do not feed it C(MemAvailable); that shrinks
    while the previous release runs, so re-runs would change the count.
positional: _input
options:
  _input:
    description: Memory the host can use, in MiB.
    type: float
    required: true
  per_worker_mb:
    description:
      - Memory budget of one worker, in MiB.
      - A FastAPI worker with SQLAlchemy and pydantic measures 60-90 MiB RSS
        after warm-up; 128 leaves room for request-time growth.
    type: float
    default: 128
  reserve_mb:
    description:
      - Memory kept for everything that is not a worker, in MiB.
      - The default covers the OS and journald (~100), Caddy (~40), and
        uvicorn's supervisor process (~30) with room to spare.
    type: float
    default: 256
  utilization:
    description:
      - Fraction of O(_input) that the reserve and the workers may use
        together, in the range (0, 1].
      - 0.75 sits inside the 50-90 % target band and leaves a quarter of the
        RAM for page cache and bursts.
    type: float
    default: 0.75
  cpus:
    description:
      - CPUs the host can use (for example C(asgi_capacity.cpus)). When given,
        the count is capped by O(cpus) * O(workers_per_cpu).
    type: float
  workers_per_cpu:
    description:
      - Workers per CPU when O(cpus) is given. Async workers are CPU bound
        once their I/O overlaps, so two per CPU covers the waits without
        thrashing.
    type: float
    default: 2
  min_workers:
    description: Fewest workers to run. If they do not fit, the filter fails.
    type: int
    default: 1
  max_workers:
    description: Most workers to run.
    type: int
  switch:
    description:
      - Leave room for a zero-downtime switch. While a new release proves
        itself, two run on the host, and the serving one gives back workers
        to make room (uvicorn's supervisor retires one per C(SIGTTOU)); the
        new one must start with two of its own to grow by C(SIGTTIN) later,
        or with all of them. Where the budget holds exactly two workers and
        no third, that cannot be done with two; the count is then one, and
        two single-worker releases fit side by side.
      - Any other count is unchanged.
    type: bool
    default: false
  other_apps_mb:
    description:
      - Memory other apps on the host already reserve, in MiB, by app name
        (for example the C(MemoryMax=) of their services, from the C(memory)
        of M(asgi.deploy.host_claims)). It comes off the budget first, so
        several apps on one host share O(utilization) of its memory instead
        of each planning for all of it.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Size uvicorn from the memory the host really has
  ansible.builtin.set_fact:
    app_worker_count: >-
      {{ asgi_capacity.memory_mb | asgi.deploy.uvicorn_workers(
           per_worker_mb=128, reserve_mb=256, utilization=0.75,
           cpus=asgi_capacity.cpus) }}

# 1024 MiB: floor((1024 * 0.75 - 256) / 128) = 4
- ansible.builtin.debug:
    msg: "{{ 1024 | asgi.deploy.uvicorn_workers }}"

# A 2-CPU host with 8 GiB: memory allows 46, the CPUs cap it at 4
- ansible.builtin.debug:
    msg: "{{ 8192 | asgi.deploy.uvicorn_workers(cpus=2) }}"

# 768 MiB: the budget holds 2 workers and no third; with switch, 1
- ansible.builtin.debug:
    msg: "{{ 768 | asgi.deploy.uvicorn_workers(switch=true) }}"

# 2048 MiB shared with an app that reserves 576: floor((1536 - 576 - 256) / 128) = 5
- ansible.builtin.debug:
    msg: "{{ 2048 | asgi.deploy.uvicorn_workers(other_apps_mb={'api': 576}) }}"
"""

RETURN = r"""
_value:
  description: The number of workers, at least O(min_workers).
  type: int
"""

import math
from numbers import Real

from ansible.errors import AnsibleFilterError


def _number(name, value, allow_none=False):
    """Return value as a float, or fail naming the option."""
    if value is None and allow_none:
        return None
    # bool is a subclass of int: True would silently mean 1.
    if isinstance(value, bool) or not isinstance(value, (Real, str)):
        raise AnsibleFilterError(
            "uvicorn_workers: %s must be a number, got %r (%s)"
            % (name, value, type(value).__name__))
    try:
        number = float(value)
    except ValueError:
        raise AnsibleFilterError(
            "uvicorn_workers: %s must be a number, got %r" % (name, value))
    if math.isnan(number) or math.isinf(number):
        raise AnsibleFilterError(
            "uvicorn_workers: %s must be a finite number, got %r" % (name, value))
    return number


def _whole(name, value, allow_none=False):
    number = _number(name, value, allow_none)
    if number is None:
        return None
    if number != int(number):
        raise AnsibleFilterError(
            "uvicorn_workers: %s must be a whole number, got %r" % (name, value))
    return int(number)


def budget_workers(memory_mb, per_worker_mb=128, reserve_mb=256, utilization=0.75, other_apps_mb=None):
    """How many workers the budget holds, before any cap: floor((memory_mb x
    utilization - other apps - reserve_mb) / per_worker_mb); negative when
    not even the reserve fits."""
    others = sum(_number("other_apps_mb[%s]" % app, mb) for app, mb in (other_apps_mb or {}).items())
    memory = _number("the input (memory_mb)", memory_mb)
    return int(math.floor((memory * _number("utilization", utilization) - others - _number("reserve_mb", reserve_mb))
                          / _number("per_worker_mb", per_worker_mb)))


def uvicorn_workers(memory_mb, per_worker_mb=128, reserve_mb=256,
                    utilization=0.75, cpus=None, workers_per_cpu=2,
                    min_workers=1, max_workers=None, other_apps_mb=None, switch=False):
    memory = _number("the input (memory_mb)", memory_mb)
    per_worker = _number("per_worker_mb", per_worker_mb)
    reserve = _number("reserve_mb", reserve_mb)
    target = _number("utilization", utilization)
    cpu_count = _number("cpus", cpus, allow_none=True)
    per_cpu = _number("workers_per_cpu", workers_per_cpu)
    fewest = _whole("min_workers", min_workers)
    most = _whole("max_workers", max_workers, allow_none=True)

    if memory <= 0:
        raise AnsibleFilterError(
            "uvicorn_workers: the input (memory_mb) must be greater than 0, got %r"
            % memory_mb)
    if per_worker <= 0:
        raise AnsibleFilterError(
            "uvicorn_workers: per_worker_mb must be greater than 0, got %r"
            % per_worker_mb)
    if reserve < 0:
        raise AnsibleFilterError(
            "uvicorn_workers: reserve_mb must be 0 or more, got %r" % reserve_mb)
    if not 0 < target <= 1:
        raise AnsibleFilterError(
            "uvicorn_workers: utilization must be in (0, 1], got %r" % utilization)
    if cpu_count is not None and cpu_count <= 0:
        raise AnsibleFilterError(
            "uvicorn_workers: cpus must be greater than 0, got %r" % cpus)
    if per_cpu <= 0:
        raise AnsibleFilterError(
            "uvicorn_workers: workers_per_cpu must be greater than 0, got %r"
            % workers_per_cpu)
    if fewest < 1:
        raise AnsibleFilterError(
            "uvicorn_workers: min_workers must be 1 or more, got %r" % min_workers)
    if most is not None and most < fewest:
        raise AnsibleFilterError(
            "uvicorn_workers: max_workers (%d) must not be less than min_workers (%d)"
            % (most, fewest))

    if not isinstance(other_apps_mb or {}, dict):
        raise AnsibleFilterError(
            "uvicorn_workers: other_apps_mb must map app names to MiB, got %r" % (other_apps_mb,))
    others = {str(app): _number("other_apps_mb[%s]" % app, mb) for app, mb in sorted((other_apps_mb or {}).items())}
    if any(mb < 0 for mb in others.values()):
        raise AnsibleFilterError(
            "uvicorn_workers: other_apps_mb must not be negative, got %r" % (other_apps_mb,))
    taken = sum(others.values())
    budget = memory * target
    workers = math.floor((budget - taken - reserve) / per_worker)
    if workers < fewest:
        shared = ""
        if taken:
            shared = "; the other apps on the host reserve %.0f MiB of it (%s)" % (
                taken, ", ".join("%s %.0f MiB" % item for item in others.items()))
        raise AnsibleFilterError(
            "uvicorn_workers: %d worker(s) do not fit: the host has %.0f MiB, of "
            "which utilization=%g allows %.0f MiB%s; reserve_mb=%g plus %d x "
            "per_worker_mb=%g needs %.0f MiB. Lower per_worker_mb or reserve_mb, "
            "raise utilization, %sor give the host more memory."
            % (fewest, memory, target, budget, shared, reserve, fewest, per_worker,
               reserve + fewest * per_worker,
               "give the other apps fewer workers (app_workers) or remove one, " if taken else ""))
    if cpu_count is not None:
        workers = min(workers, math.floor(cpu_count * per_cpu))
    if most is not None:
        workers = min(workers, most)
    if switch and workers == 2 and math.floor((budget - taken - reserve) / per_worker) == 2:
        # Two single-worker releases fit side by side; two of two do not.
        workers = 1
    # The CPU cap may fall below the minimum; the minimum was shown to fit.
    return max(workers, fewest)


class FilterModule(object):
    """asgi.deploy worker sizing."""

    def filters(self):
        return {"uvicorn_workers": uvicorn_workers}
