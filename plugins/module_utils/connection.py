# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SSH connection a module was run over: the address a firewall must keep
admitting, and the controller a run's record names; and which of a host's
addresses other hosts see its connections come from."""

from __future__ import annotations

import ipaddress
import os


def source_address(text):
    """text as another host sees a connection from it (the zone of a scoped
    IPv6 address dropped), or None for a loopback or link-local address."""
    parsed = ipaddress.ip_address(text.split("%")[0])
    return None if parsed.is_loopback or parsed.is_link_local else str(parsed)


def ssh_connection(environ, pid, proc="/proc"):
    """SSH_CONNECTION from environ, else from the environment of the nearest
    ancestor of pid that has it; empty when none has."""
    if environ.get("SSH_CONNECTION"):
        return environ["SSH_CONNECTION"]
    while pid > 1:
        try:
            with open(os.path.join(proc, str(pid), "environ"), "rb") as handle:
                variables = handle.read().split(b"\0")
            with open(os.path.join(proc, str(pid), "stat")) as handle:
                # The parent's pid follows the state, after the command's name in parentheses.
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return ""
        for variable in variables:
            if variable.startswith(b"SSH_CONNECTION="):
                return variable.split(b"=", 1)[1].decode("utf-8", "replace")
        pid = parent
    return ""
