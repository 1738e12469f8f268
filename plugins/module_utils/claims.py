# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The claim files the app role writes, one JSON file per app deployed on a
host. Shared by the host_claims and utilization_facts modules.
"""

from __future__ import annotations

import glob
import json
import os

CLAIMS_DIR = "/etc/asgi-deploy/apps"


def read_claims(claims_dir=CLAIMS_DIR):
    """{app: its claim} for every claim file, None for one that is not JSON
    (each caller decides what a torn file means to it)."""
    claims = {}
    for path in sorted(glob.glob(os.path.join(claims_dir, "*.json"))):
        with open(path) as handle:
            try:
                claims[os.path.basename(path)[:-len(".json")]] = json.load(handle)
            except ValueError:
                claims[os.path.basename(path)[:-len(".json")]] = None
    return claims
