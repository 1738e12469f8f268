# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: deploy_inputs
short_description: The digest of everything on the controller that decides what a deploy does
version_added: 0.6.0
description:
  - One digest of the collection's own files (roles, plugins, playbooks, the
    bundled example), the inventory's groups, the settings of every host
    named (each variable whose name starts with one of O(prefixes) and holds
    no double underscore, the run's extra and play variables included, and
    C(ansible_host)), the app
    source folders and packages they name (each file's name, size and
    modification time).
  - The same digest for the same inputs in every run; any change to one of
    them gives another. The playbook C(asgi.deploy.site) compares it with the record
    each host keeps of its last run (M(asgi.deploy.deploy_state)).
  - An empty string where some input cannot be read (a variable that needs
    facts, a source folder that is not there) - then no record matches, and
    the run takes its full path.
options:
  _terms:
    description: The inventory hosts of the run.
    type: list
    elements: str
    required: true
  prefixes:
    description: The variable names that count.
    type: list
    elements: str
    default: [app_, caddy_, firewall_, postgresql_, asgi_]
  ignore:
    description: Variables that change how a run goes, not what it makes of the hosts.
    type: list
    elements: str
    default: [asgi_fast_path, app_break_lock]
  source:
    description:
      - False leaves out the app's source - the folders and packages named by
        O(source_settings), those settings themselves and the bundled example
        app - for the digest of what the roles that never read the source
        (the firewall, PostgreSQL, Caddy) make of a host.
    type: bool
    default: true
  source_settings:
    description: The settings that name the app's source or pick from it.
    type: list
    elements: str
    default: [app_src, app_package, app_src_exclude]
author:
  - asgi.deploy contributors (@asgi-deploy)
"""

EXAMPLES = r"""
- name: What decides this run
  ansible.builtin.set_fact:
    inputs: "{{ lookup('asgi.deploy.deploy_inputs', *ansible_play_hosts_all) }}"
  run_once: true

- name: What decides the firewall, PostgreSQL and Caddy in this run
  ansible.builtin.set_fact:
    settings: "{{ lookup('asgi.deploy.deploy_inputs', *ansible_play_hosts_all, source=false) }}"
  run_once: true
"""

RETURN = r"""
_raw:
  description: The digest (SHA-256, hex), or an empty string.
  type: list
  elements: str
"""

import hashlib
import json
import os

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase
from ansible_collections.asgi.deploy.plugins.module_utils.source import source_entries

COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# What of the collection decides a run; its tests and docs do not.
PARTS = ("roles", "plugins", "playbooks", "examples", "meta")


def tree(root, parts=PARTS):
    """Digest of the content of every file under root's parts, by relative path."""
    digest = hashlib.sha256()
    for part in parts:
        for folder, folders, names in os.walk(os.path.join(root, part)):
            folders[:] = sorted(name for name in folders if name != "__pycache__")
            for name in sorted(names):
                if name.endswith(".pyc"):
                    continue
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, root).encode() + b"\0")
                with open(path, "rb") as handle:
                    digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def fingerprint(path, exclude=()):
    """Names, sizes and modification times of a file or of what a source
    folder holds (source_entries: but what exclude leaves out);
    FileNotFoundError when it is not there."""
    if not os.path.isdir(path):
        info = os.stat(path)
        return [[os.path.basename(path), info.st_size, info.st_mtime_ns]]
    found = []
    for entry in source_entries(path, exclude):
        full = os.path.join(path, entry)
        # A folder counts by what it holds.
        if os.path.isdir(full) and not os.path.islink(full):
            continue
        try:
            info = os.stat(full)
        except OSError:
            # A link to nothing, or a file gone since the listing.
            continue
        found.append([entry, info.st_size, info.st_mtime_ns])
    return found


def setting(name, prefixes, ignore=()):
    """A user's setting; a name with a double underscore is a role's or a playbook's own."""
    return name.startswith(prefixes) and "__" not in name and name not in ignore


def inputs(settings, groups, collection_digest, read=fingerprint, source_settings=None):
    """The digest of a run's inputs: settings is {host: {variable: value}} (the
    host '' holding the play's and the run's own variables). With
    source_settings, those settings are left out, and the source they name."""
    sources = {}
    if source_settings is not None:
        settings = dict((host, dict((name, value) for name, value in values.items() if name not in source_settings))
                        for host, values in settings.items())
    for host, values in sorted(settings.items()):
        for name, path in (("app_src", values.get("app_src")), ("app_package", values.get("app_package"))):
            if path:
                sources["%s %s" % (host, name)] = read(os.path.abspath(str(path)), values.get("app_src_exclude") or ())
    blob = json.dumps({"collection": collection_digest, "groups": groups, "settings": settings,
                       "sources": sources}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        prefixes, ignore = tuple(self.get_option("prefixes")), self.get_option("ignore")
        variables = variables or {}
        try:
            settings = {"": dict((name, self._templar.template(variables[name]))
                                 for name in variables if setting(name, prefixes, ignore))}
            hostvars = variables["hostvars"]
            for host in terms:
                values = hostvars[host]
                settings[host] = dict((name, values[name]) for name in values
                                      if setting(name, prefixes, ignore) or name == "ansible_host")
            groups = dict((name, sorted(members)) for name, members in variables.get("groups", {}).items())
            if self.get_option("source"):
                return [inputs(settings, groups, tree(COLLECTION))]
            return [inputs(settings, groups, tree(COLLECTION, [part for part in PARTS if part != "examples"]),
                           source_settings=self.get_option("source_settings"))]
        except (AnsibleError, OSError, KeyError, TypeError, ValueError):
            # Whatever cannot be read here makes the run take its full path.
            return [""]
