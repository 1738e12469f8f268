#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_certificates
short_description: The certificate a local HTTPS server presents for each domain
version_added: 0.5.0
description:
  - Connects to O(address) on O(port) once per domain, with the domain as the
    TLS server name, and reads the certificate presented - what clients get,
    whichever issuer made it - with its expiry and issuer. The certificate is
    not verified - an expired or untrusted one is what this is for.
  - Reads with C(openssl x509). Read only.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  domains:
    description: The domains to ask for; a wildcard (C(*.example.com)) is reported as not checked.
    type: list
    elements: str
    required: true
  address:
    description: Where the server listens.
    type: str
    default: 127.0.0.1
  port:
    description: Its HTTPS port.
    type: int
    default: 443
requirements: [openssl]
extends_documentation_fragment:
  - asgi.deploy.attributes.read_only
"""

EXAMPLES = r"""
- name: Read what Caddy serves for the app's domains
  asgi.deploy.tls_certificates:
    domains: [example.com, www.example.com]
  register: certificates
"""

RETURN = r"""
certificates:
  description: Per domain, the certificate's expiry (seconds since the epoch and days left) and issuer, or the error.
  returned: always
  type: dict
  sample: {example.com: {not_after: 1803993600, days_left: 89, issuer: "CN=R11,O=Let's Encrypt,C=US", error: null}}
"""

import ipaddress
import socket
import ssl
import time

from ansible.module_utils.basic import AnsibleModule


def presented(address, port, domain):
    """The DER certificate the server presents for a server name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        ipaddress.ip_address(domain)
        server_name = None  # an IP address is no server name
    except ValueError:
        server_name = domain
    with socket.create_connection((address, port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            return tls.getpeercert(binary_form=True)


def parse(text):
    """notAfter and issuer from openssl x509 -enddate -issuer."""
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    return ssl.cert_time_to_seconds(fields["notAfter"].strip()), fields.get("issuer", "").strip()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            domains=dict(type="list", elements="str", required=True),
            address=dict(type="str", default="127.0.0.1"),
            port=dict(type="int", default=443),
        ),
        supports_check_mode=True,
    )
    openssl = module.get_bin_path("openssl", required=True)
    found = {}
    for domain in module.params["domains"]:
        entry = {"not_after": None, "days_left": None, "issuer": None, "error": None}
        found[domain] = entry
        if domain.startswith("*."):
            entry["error"] = "a wildcard: ask for one of its names instead"
            continue
        try:
            der = presented(module.params["address"], module.params["port"], domain)
        except (OSError, ssl.SSLError) as error:
            entry["error"] = "%s: %s" % (type(error).__name__, error)
            continue
        rc, out, err = module.run_command([openssl, "x509", "-noout", "-enddate", "-issuer", "-nameopt", "RFC2253"],
                                          data=ssl.DER_cert_to_PEM_cert(der), binary_data=True)
        if rc != 0:
            entry["error"] = "openssl x509: %s" % err.strip()
            continue
        try:
            entry["not_after"], entry["issuer"] = parse(out)
        except (KeyError, ValueError) as error:
            entry["error"] = "cannot read the expiry from %r: %s" % (out, error)
            continue
        entry["days_left"] = int((entry["not_after"] - time.time()) // 86400)
    module.exit_json(changed=False, certificates=found)


if __name__ == "__main__":
    main()
