#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: release_venv
short_description: Build a release's virtualenv from its recorded set, in one call
version_added: 0.6.0
description:
  - Writes the release's C(requirements.lock), creates its virtualenv, runs
    the install commands in the release's C(app) folder, then the command that
    tells whether the virtualenv holds exactly the recorded set, and reads the
    serving release's C(requirements.lock) to compare with.
  - One call for what would otherwise be a task, and a round trip to the host,
    each. The commands come from the P(asgi.deploy.uv_install#filter) filter;
    this module decides nothing about what to install.
  - Stops at the first command that fails, naming it, with its output.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  path:
    description: The release's folder; its source is unpacked in C(app) below it.
    type: path
    required: true
  build:
    description:
      - Write O(lock) and create the virtualenv first. V(false) only installs
        into the virtualenv that is there, as for a serving release whose
        packages were changed by hand.
    type: bool
    default: true
  lock:
    description: The recorded set, written to C(requirements.lock) in O(path) when O(build).
    type: str
    default: ""
  venv:
    description: The command that creates the virtualenv, run when O(build) and C(venv/bin/python) is not there.
    type: list
    elements: str
    default: []
  install:
    description: The install commands, run in order in O(path)/C(app).
    type: list
    elements: list
    default: []
  check:
    description: The command whose output says what would change the virtualenv to the recorded set.
    type: list
    elements: str
    required: true
  serving_lock:
    description: The serving release's C(requirements.lock), read when O(build); none there reads as empty.
    type: path
extends_documentation_fragment:
  - asgi.deploy.attributes
attributes:
  check_mode:
    description: Builds nothing; skipped in check mode.
    support: none
"""

EXAMPLES = r"""
- name: Build the release's virtualenv
  asgi.deploy.release_venv:
    path: /opt/myapp/releases/3f2a9c1b7d4e
    lock: "{{ locked_set }}"
    venv: "{{ uv_plan.venv }}"
    install: "{{ uv_plan.install }}"
    check: "{{ uv_plan.check }}"
    serving_lock: /opt/myapp/current/requirements.lock
  # uv's settings, as the task's environment: an index URL may hold a token.
  environment: {UV_CACHE_DIR: /var/cache/asgi-deploy/uv}
  register: built
"""

RETURN = r"""
check_stdout:
  description: What the O(check) command printed.
  returned: success
  type: str
check_stderr:
  description: What the O(check) command printed on its error stream; uv reports there.
  returned: success
  type: str
serving_lock:
  description: The content of O(serving_lock), empty when there is none or O(build) is V(false).
  returned: success
  type: str
cmd:
  description: The command that failed.
  returned: failure
  type: list
  elements: str
stdout:
  description: What the failed command printed.
  returned: failure
  type: str
stderr:
  description: What the failed command printed on its error stream.
  returned: failure
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule


def run(module, argv, cwd=None):
    rc, out, err = module.run_command(argv, cwd=cwd)
    if rc != 0:
        module.fail_json(msg="%s exited with %d" % (" ".join(argv), rc), cmd=argv, rc=rc, stdout=out, stderr=err)
    return out, err


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            build=dict(type="bool", default=True),
            lock=dict(type="str", default=""),
            venv=dict(type="list", elements="str", default=[]),
            install=dict(type="list", elements="list", default=[]),
            check=dict(type="list", elements="str", required=True),
            serving_lock=dict(type="path"),
        ),
        supports_check_mode=False,
    )
    params = module.params
    path = params["path"]
    serving = ""
    if params["build"]:
        with open(os.path.join(path, "requirements.lock"), "w") as handle:
            handle.write(params["lock"])
        os.chmod(os.path.join(path, "requirements.lock"), 0o644)
        if params["venv"] and not os.path.exists(os.path.join(path, "venv", "bin", "python")):
            run(module, params["venv"])
        if params["serving_lock"] and os.path.isfile(params["serving_lock"]):
            with open(params["serving_lock"]) as handle:
                serving = handle.read()
    for argv in params["install"]:
        run(module, [str(arg) for arg in argv], cwd=os.path.join(path, "app"))
    out, err = run(module, params["check"])
    module.exit_json(changed=True, check_stdout=out, check_stderr=err, serving_lock=serving)


if __name__ == "__main__":
    main()
