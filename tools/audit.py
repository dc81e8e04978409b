"""``make audit``: pip-audit over the pinned runtime dependencies (constraints.txt), saying plainly what it could
and could not check.

Run with the Python of a virtual environment that has pip-audit (``make audit`` makes one). Each pinned
package is looked up in PyPI's vulnerability data (its per-version JSON API) and, for any it could not
look up, in OSV. Both need the network. The outcome is one of:

- exit 0: every package audited, no known vulnerability;
- exit 1: known vulnerabilities, listed with the versions that fix them;
- exit 2: some packages could not be audited (the services did not answer from here): nothing is known
  about those, and the message says so rather than "no known vulnerabilities".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SERVICES = ("pypi", "osv")


def audit(requirements: Path, service: str) -> tuple[dict[str, dict], str]:
    """pip-audit's JSON report for ``requirements`` from ``service`` (name → dependency entry), and its stderr."""
    command = [sys.executable, "-m", "pip_audit", "--requirement", str(requirements), "--no-deps", "--disable-pip",
               "--format", "json", "--progress-spinner", "off", "--vulnerability-service", service]
    done = subprocess.run(command, capture_output=True, text=True)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:  # the service failed outright (e.g. no network): no report at all
        return {}, done.stderr
    return {entry["name"]: entry for entry in report.get("dependencies", [])}, done.stderr


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def main(requirements: Path) -> int:
    pinned = [line.split("==")[0] for line in requirements.read_text().splitlines() if "==" in line]
    audited: dict[str, dict] = {}
    problems = []
    for service in SERVICES:
        report, stderr = audit(requirements, service)
        fresh = {name: entry for name, entry in report.items() if "skip_reason" not in entry}
        audited.update({name: entry for name, entry in fresh.items() if name not in audited})
        missing = len(pinned) - len(audited)
        skipped = [entry["skip_reason"] for entry in report.values() if "skip_reason" in entry]
        reason = last_line(stderr) if not report else (skipped[0] if skipped else "")
        problems.append(f"{service}: {len(fresh)} audited" + (f", e.g. {reason}" if reason else ""))
        if missing == 0:
            break
    vulnerable = {name: entry["vulns"] for name, entry in audited.items() if entry.get("vulns")}
    for name, vulns in sorted(vulnerable.items()):
        for vuln in vulns:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            print(f"VULNERABLE {name} {audited[name].get('version', '')}: {vuln['id']} (fixed in {fixes})")
    unaudited = sorted(set(pinned) - set(audited))
    print(f"audit: {len(audited)} of {len(pinned)} pinned packages audited; {len(vulnerable)} known vulnerable")
    if unaudited:
        print(f"audit: NOT AUDITED: {', '.join(unaudited)}")
        print("audit: the vulnerability services did not answer for these from here (" + "; ".join(problems) + "). "
              "Nothing is known about them, good or bad: run `make audit` where PyPI's per-version JSON API "
              "(https://pypi.org/pypi/<name>/<version>/json) or https://api.osv.dev is reachable.")
    if vulnerable:
        return 1
    return 2 if unaudited else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("constraints.txt")))
