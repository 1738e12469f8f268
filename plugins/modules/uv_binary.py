#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: uv_binary
short_description: Put a pinned version of uv on the host from a Python package index
version_added: 0.2.0
description:
  - Installs the C(uv) binary of one exact version from the C(uv) wheel on a
    Python package index (PyPI or a private mirror), checking the wheel against
    the SHA-256 the index publishes for it.
  - Needs only the host's Python and the index; no pip, venv or other tool.
  - A version that is already in place costs no network request.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  version:
    description: The uv version, such as C(0.13.9).
    type: str
    required: true
  dest:
    description: Folder under which C(<version>/uv) is written.
    type: path
    required: true
  index_url:
    description: The index's simple API (PEP 503), as pip's C(--index-url).
    type: str
    default: https://pypi.org/simple
  ca_bundle:
    description: CA bundle to verify the index with. Empty, the host's trusted CAs.
    type: path
    default: ""
  timeout:
    description: Seconds for each request to the index.
    type: int
    default: 60
extends_documentation_fragment:
  - asgi.deploy.attributes
attributes:
  check_mode:
    description: Says whether it would install, without fetching.
    support: full
"""

EXAMPLES = r"""
- name: Put uv on the host
  asgi.deploy.uv_binary:
    version: 0.13.9
    dest: /opt/asgi-deploy/uv
  register: uv
"""

RETURN = r"""
path:
  description: Path of the uv binary.
  returned: always
  type: str
  sample: /opt/asgi-deploy/uv/0.13.9/uv
wheel:
  description: File name of the wheel it came from; empty when it was already in place.
  returned: always
  type: str
  sample: uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
"""

import hashlib
import io
import os
import platform
import re
import zipfile
from html.parser import HTMLParser
from urllib.parse import urljoin, urldefrag, urlsplit, urlunsplit

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import ConnectionError as UrlConnectionError
from ansible.module_utils.urls import open_url

# Machine names as Python reports them, to the wheel platform tags uv publishes.
ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64",
          "armv7l": "armv7l", "i686": "i686", "ppc64le": "ppc64le", "s390x": "s390x"}


class _Links(HTMLParser):
    """The anchors of a PEP 503 page: (file name, absolute URL with its fragment)."""

    def __init__(self, base):
        super().__init__()
        self.base, self.links, self._href, self._text = base, [], None, ""

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), ""

    def handle_data(self, data):
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._text.strip(), urljoin(self.base, self._href)))
            self._href = None


def wheel_links(page, base):
    parser = _Links(base)
    parser.feed(page)
    return parser.links


def pick_wheel(links, version, machine):
    """The manylinux wheel of this version for this machine, and its sha256.
    Raises ValueError saying what the index offers when there is none."""
    arch = ARCHES.get(machine.lower())
    if arch is None:
        raise ValueError("no uv wheel is published for machine type %s" % machine)
    pattern = re.compile(r"^uv-%s-py3-none-(.*)\.whl$" % re.escape(version))
    candidates = []
    for name, url in links:
        match = pattern.match(name)
        if not match:
            continue
        tags = match.group(1).split(".")
        if any(tag.startswith("manylinux") and tag.endswith("_" + arch) for tag in tags):
            url, fragment = urldefrag(url)
            digest = fragment[len("sha256="):] if fragment.startswith("sha256=") else ""
            # The plainest wheel first: manylinux only, not also musllinux.
            candidates.append((len(tags), name, url, digest))
    if not candidates:
        versions = sorted({n.split("-")[1] for n, _u in links if n.startswith("uv-") and n.endswith(".whl")})
        raise ValueError("the index has no uv %s wheel for %s linux; versions it has: %s"
                         % (version, arch, ", ".join(versions[-8:]) or "none"))
    _n, name, url, digest = sorted(candidates)[0]
    if not digest:
        raise ValueError("the index gives no sha256 for %s, so it cannot be checked" % name)
    return name, url, digest


def binary_from_wheel(data, version):
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        return wheel.read("uv-%s.data/scripts/uv" % version)


def fetch(url, ca_bundle, timeout):
    response = open_url(url, headers={"Accept": "text/html"}, http_agent="asgi.deploy uv_binary",
                        timeout=timeout, ca_path=ca_bundle or None)
    try:
        return response.read()
    finally:
        response.close()


def without_credentials(url):
    """url with its user and password, if any, shown as ***: a private
    index's URL may hold a token, and messages end up in logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            version=dict(type="str", required=True),
            dest=dict(type="path", required=True),
            index_url=dict(type="str", default="https://pypi.org/simple"),
            ca_bundle=dict(type="path", default=""),
            timeout=dict(type="int", default=60),
        ),
        supports_check_mode=True,
    )
    version, dest = module.params["version"], module.params["dest"]
    if not re.match(r"^[0-9]+(\.[0-9]+)*$", version):
        module.fail_json(msg="uv_binary: version must be a release such as 0.13.9, got %r" % version)
    path = os.path.join(dest, version, "uv")
    if os.access(path, os.X_OK):
        module.exit_json(changed=False, path=path, wheel="")
    if module.check_mode:
        module.exit_json(changed=True, path=path, wheel="")

    index = module.params["index_url"].rstrip("/") + "/uv/"
    ca_bundle, timeout = module.params["ca_bundle"], module.params["timeout"]
    try:
        page = fetch(index, ca_bundle, timeout).decode("utf-8", "replace")
        name, url, digest = pick_wheel(wheel_links(page, index), version, platform.machine())
        data = fetch(url, ca_bundle, timeout)
    except ValueError as exc:
        module.fail_json(msg="uv_binary: %s (index %s)" % (exc, without_credentials(index)))
    except (OSError, UrlConnectionError) as exc:
        module.fail_json(msg="uv_binary: cannot read %s: %s. Set app_package_index_url (a mirror) "
                             "or app_package_index_ca_bundle (a proxy's CA) for this network." % (without_credentials(index), exc))
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        module.fail_json(msg="uv_binary: %s has sha256 %s, but the index says %s; not installed"
                             % (name, actual, digest))
    binary = binary_from_wheel(data, version)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    partial = path + ".part"
    with open(partial, "wb") as handle:
        handle.write(binary)
    os.chmod(partial, 0o755)
    os.rename(partial, path)
    module.exit_json(changed=True, path=path, wheel=name)


if __name__ == "__main__":
    main()
