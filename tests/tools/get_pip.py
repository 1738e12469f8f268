"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test fetches get-pip.py from a host that only PyPI-reaching networks
cannot reach. This does the same job from what is here: pip from Python's own
bundled wheel, then that pip installs what ansible-test asked for from PyPI.
tests/run.sh puts it where ansible-test looks for its cached copy.
"""
from __future__ import annotations

import subprocess
import sys

# get-pip.py's own flags; pip install does not know them.
OWN_FLAGS = ("--no-setuptools", "--no-wheel")

if __name__ == "__main__":
    # In a child process: ensurepip points PIP_CONFIG_FILE at /dev/null in its
    # own process, which would hide the machine's pip.conf (its CA bundle).
    subprocess.check_call([sys.executable, "-m", "ensurepip"])
    args = [arg for arg in sys.argv[1:] if arg not in OWN_FLAGS]
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
