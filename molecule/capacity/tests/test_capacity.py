"""The module reads the container's cgroup limit and the filter follows it."""
import json

import pytest

MIB = 1024 * 1024
# Expected from the filter's defaults (utilization 0.75, reserve 256 MiB,
# 128 MiB a worker, 2 workers a CPU):
#   640 MiB: floor((480 - 256) / 128) = 1
#   1 GiB:   floor((768 - 256) / 128) = 4, the 1.5 CPUs cap it at 3
EXPECTED = {
    "asgi-capacity-small": {"limit_mb": 640, "cpus": 2.0, "workers": 1},
    "asgi-capacity-large": {"limit_mb": 1024, "cpus": 1.5, "workers": 3},
}


def _recorded(host):
    return json.loads(host.file("/etc/asgi-capacity.json").content_string)


def _pid1_memory_cgroup(host):
    """Directory of PID 1's memory cgroup (v1 or v2)."""
    for line in host.file("/proc/1/cgroup").content_string.splitlines():
        _hid, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return "/sys/fs/cgroup/memory" + path
    return "/sys/fs/cgroup" + host.file("/proc/1/cgroup").content_string.split("::", 1)[1].strip()


@pytest.fixture
def expected(host):
    return EXPECTED[host.backend.get_hostname()]


def test_memory_is_the_cgroup_limit_not_the_host_ram(host, expected):
    recorded = _recorded(host)
    assert int(recorded["memory_mb"]) == expected["limit_mb"]
    # The limit came from a cgroup that encloses PID 1, and says what was set.
    source = recorded["memory_source"]
    assert (_pid1_memory_cgroup(host) + "/").startswith(source.rsplit("/", 1)[0] + "/")
    assert int(host.file(source).content_string) == expected["limit_mb"] * MIB
    host_total_mb = int(host.check_output("awk '/MemTotal/ {print $2}' /proc/meminfo")) // 1024
    assert host_total_mb > 4 * expected["limit_mb"]


def test_cpus_follow_the_quota(host, expected):
    assert float(_recorded(host)["cpus"]) == expected["cpus"]


def test_worker_count_follows_the_limit(host, expected):
    assert int(_recorded(host)["workers"]) == expected["workers"]
