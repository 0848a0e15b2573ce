# SPDX-License-Identifier: LGPL-2.1-or-later
"""Several xvm processes on one state dir at once end in a consistent state."""
import os
import subprocess

from conftest import XVM

SCRIPT = """
set -e
for i in 1 2 3; do
  u=$("$XVM" vm-install template="sim test" new-name-label="p$1-$i")
  "$XVM" vm-start uuid="$u"
  [ $i = 3 ] && "$XVM" vm-shutdown uuid="$u" --force
done
exit 0
"""


def test_parallel_installs_and_starts(xvm):
    env = dict(xvm.env, XVM=XVM)
    procs = [subprocess.Popen(["sh", "-c", SCRIPT, "sh", str(n)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for n in range(8)]
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    recs = xvm.records("vm-list", "params=name-label,power-state,domid")
    names = sorted(r["name-label"] for r in recs)
    assert names == sorted(f"p{n}-{i}" for n in range(8) for i in (1, 2, 3))
    for r in recs:
        want = "Halted" if r["name-label"].endswith("-3") else "Running"
        assert r["power-state"] == want, r
    running = [r["domid"] for r in recs if r["power-state"] == "Running"]
    assert len(set(running)) == len(running) == 16   # one domain each
