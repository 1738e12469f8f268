# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.asgi.deploy.plugins.module_utils import capacity as cf

MEMINFO = "MemTotal:       24684100 kB\nMemFree:  100 kB\nMemAvailable:   24255264 kB\nHugePages_Total: 0\n"
NO_LIMIT_V1 = "9223372036854771712"


def mountinfo_v1(root):
    return (
        "30 25 0:26 / %(r)s/sys/fs/cgroup rw - tmpfs tmpfs rw\n"
        "31 30 0:27 / %(r)s/sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "32 30 0:28 / %(r)s/sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
        "40 25 8:1 / / rw - ext4 /dev/vda rw\n" % {"r": root})


def mountinfo_v2(root, mount_root="/"):
    return "29 25 0:26 %s %s/sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n" % (mount_root, root)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_parse_meminfo():
    values = cf.parse_meminfo(MEMINFO)
    assert values["MemTotal"] == 24684100 * 1024
    assert values["HugePages_Total"] == 0


def test_no_cgroup_limit_uses_memtotal(tmp_path):
    write(tmp_path / "sys/fs/cgroup/memory/memory.limit_in_bytes", NO_LIMIT_V1)
    facts = cf.capacity(MEMINFO, "4:memory:/\n2:cpu,cpuacct:/\n", mountinfo_v1(tmp_path), 2)
    assert facts["memory_mb"] == 24105
    assert facts["memory_source"] == "/proc/meminfo"
    assert facts["cpus"] == 2.0 and facts["cpus_source"] == "sched_getaffinity"
    assert facts["cgroup_version"] == "1"


def test_v1_limit_on_an_ancestor_wins(tmp_path):
    base = tmp_path / "sys/fs/cgroup/memory"
    write(base / "memory.limit_in_bytes", NO_LIMIT_V1)
    write(base / "docker/memory.limit_in_bytes", str(2048 * cf.MIB))
    write(base / "docker/abc/memory.limit_in_bytes", str(1024 * cf.MIB))
    write(base / "docker/abc/system.slice/memory.limit_in_bytes", NO_LIMIT_V1)
    facts = cf.capacity(MEMINFO, "4:memory:/docker/abc/system.slice\n",
                        mountinfo_v1(tmp_path), 2)
    assert facts["memory_mb"] == 1024
    assert facts["cgroup_memory_limit_mb"] == 1024
    assert facts["memory_source"] == str(base / "docker/abc/memory.limit_in_bytes")
    # MemAvailable is never reported above what the cgroup allows
    assert facts["available_mb"] == 1024


def test_v2_limit_and_cpu_quota(tmp_path):
    base = tmp_path / "sys/fs/cgroup"
    write(base / "memory.max", "max")
    write(base / "cpu.max", "max 100000")
    write(base / "app.slice/memory.max", str(768 * cf.MIB))
    write(base / "app.slice/cpu.max", "150000 100000")
    write(base / "app.slice/web.service/memory.max", "max")
    facts = cf.capacity(MEMINFO, "0::/app.slice/web.service\n", mountinfo_v2(tmp_path), 4)
    assert facts["memory_mb"] == 768
    assert facts["cpus"] == 1.5
    assert facts["cpus_source"] == str(base / "app.slice/cpu.max")
    assert facts["cgroup_version"] == "2"


def test_v1_cfs_quota(tmp_path):
    base = tmp_path / "sys/fs/cgroup/cpu,cpuacct"
    write(base / "cpu.cfs_quota_us", "-1")
    write(base / "cpu.cfs_period_us", "100000")
    write(base / "docker/x/cpu.cfs_quota_us", "50000")
    write(base / "docker/x/cpu.cfs_period_us", "100000")
    facts = cf.capacity(MEMINFO, "2:cpu,cpuacct:/docker/x\n", mountinfo_v1(tmp_path), 2)
    assert facts["cpus"] == 0.5


def test_quota_above_affinity_does_not_raise_cpus(tmp_path):
    write(tmp_path / "sys/fs/cgroup/cpu.max", "800000 100000")
    facts = cf.capacity(MEMINFO, "0::/\n", mountinfo_v2(tmp_path), 2)
    assert facts["cpus"] == 2.0


def test_limit_above_memtotal_is_ignored(tmp_path):
    write(tmp_path / "sys/fs/cgroup/memory.max", str(64 * 1024 * cf.MIB))
    facts = cf.capacity(MEMINFO, "0::/\n", mountinfo_v2(tmp_path), 2)
    assert facts["memory_mb"] == 24105
    assert facts["cgroup_memory_limit_mb"] == 64 * 1024


def test_namespaced_mount_of_a_subtree(tmp_path):
    # A private cgroup namespace mounts the container's own cgroup at the root.
    write(tmp_path / "sys/fs/cgroup/memory.max", str(512 * cf.MIB))
    facts = cf.capacity(MEMINFO, "0::/docker/abc\n",
                        mountinfo_v2(tmp_path, mount_root="/docker/abc"), 2)
    assert facts["memory_mb"] == 512


def test_no_cgroups_at_all():
    facts = cf.capacity(MEMINFO, "", "", 3)
    assert facts["memory_mb"] == 24105 and facts["cpus"] == 3.0
    assert facts["cgroup_version"] == "none"


def test_meminfo_without_total_is_an_error():
    with pytest.raises(ValueError, match="MemTotal"):
        cf.capacity("MemFree: 1 kB\n", "", "", 1)
