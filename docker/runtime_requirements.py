"""Print the project's runtime dependencies (pyproject.toml [project].dependencies), one per line.

Used by the Dockerfile so the image installs exactly what pyproject.toml declares for running the service,
and nothing from the test extras. Standard library only (tomllib, Python 3.11+).

    python3 docker/runtime_requirements.py [pyproject.toml] > requirements.txt
"""

import sys
import tomllib

path = sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml"
with open(path, "rb") as f:
    dependencies = tomllib.load(f)["project"]["dependencies"]
print("\n".join(dependencies))
