# digitpad: the prediction service and the canvas page in one small image.
#
#   docker build -t digitpad .                                              # on python:3.12-slim
#   docker build --build-arg BASE_IMAGE=localbase:bookworm -t digitpad .    # on a local Debian base
#   docker run --rm -p 8000:8000 digitpad                                   # http://127.0.0.1:8000
#
# Works with the legacy builder (DOCKER_BUILDKIT=0) as well as BuildKit: no RUN --mount, no heredocs.
# The base image only needs python3 with the venv module (Debian's /usr/bin/python3 or the official
# image's /usr/local/bin/python3): the dependencies live in a virtual environment at /opt/venv, made in
# a builder stage and copied into the final stage, so pip and its caches stay out of the final image.
ARG BASE_IMAGE=python:3.12-slim

# ---------------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS builder

# Where pip finds packages. Pass your mirror with --build-arg PIP_INDEX_URL=...; proxies go through
# Docker's predefined build args (--build-arg HTTPS_PROXY=...), which stay out of the image history.
ARG PIP_INDEX_URL=https://pypi.org/simple
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DEFAULT_TIMEOUT=120 \
    PYTHONDONTWRITEBYTECODE=1

RUN python3 -m venv /opt/venv

# Only the runtime dependencies from pyproject.toml (no test extras), pinned by constraints.txt when
# the project has one (the wildcard lets the COPY succeed without it). Wheels only: the base needs no
# compiler. pip itself is removed from the venv once it has done its work.
COPY pyproject.toml constraints*.txt docker/runtime_requirements.py /tmp/build/
RUN set -eu; \
    cd /tmp/build; \
    python3 runtime_requirements.py pyproject.toml > requirements.txt; \
    if [ -f constraints.txt ]; then set -- -c constraints.txt; fi; \
    /opt/venv/bin/python -m pip install --no-compile --only-binary=:all: -r requirements.txt "$@"; \
    /opt/venv/bin/python -m pip uninstall --yes pip setuptools wheel >/dev/null 2>&1 || true; \
    find /opt/venv -depth -type d -name tests -path '*/site-packages/numpy/*' -exec rm -rf {} +; \
    rm -f /opt/venv/bin/pip* /opt/venv/bin/activate* /opt/venv/bin/Activate.ps1; \
    python3 -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/venv

# ---------------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE}

# Bytecode is compiled at build time (unchecked-hash .pyc, valid whatever the file times), and nothing
# is written to the image's filesystem at run time, so the container also runs with `docker run
# --read-only`. Uploads over 1 MiB are spooled to a temporary file: TMPDIR points at /dev/shm, the
# memory-backed tmpfs Docker (and Kubernetes) mount even on a read-only root; the body limit bounds it.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    TMPDIR=/dev/shm \
    PYTHONUNBUFFERED=1 \
    DIGITPAD_HOST=0.0.0.0 \
    DIGITPAD_PORT=8000 \
    DIGITPAD_DATA_DIR=/data

# An unprivileged user with a fixed uid/gid (handy for Kubernetes' runAsNonRoot and volume ownership).
# On a base without useradd/groupadd, write the two entries directly.
RUN if command -v useradd >/dev/null 2>&1; then \
        groupadd --system --gid 10001 digitpad && \
        useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin digitpad; \
    else \
        echo 'digitpad:x:10001:' >> /etc/group && \
        echo 'digitpad:x:10001:10001:digitpad:/nonexistent:/usr/sbin/nologin' >> /etc/passwd; \
    fi

COPY --from=builder /opt/venv /opt/venv

# The feedback database (app/feedback) lives in /data, owned by the service's user, so a named volume mounted
# there starts out writable (Docker copies the folder's owner into a new volume). On a read-only root without
# a volume, feedback answers 503 and everything else works.
RUN mkdir -p /data && chown 10001:10001 /data

WORKDIR /srv/digitpad
COPY model ./model
COPY static ./static
COPY app ./app
RUN python3 -m compileall -q --invalidation-mode unchecked-hash app model

USER 10001:10001
EXPOSE 8000

# Healthy once the models are loaded and the service answers; uses only Python's standard library.
# (The first check runs one interval after start, so a replica behind compose's depends_on waits ~10 s.)
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('DIGITPAD_PORT', '8000') + '/healthz', timeout=4)"]

# `python -m app` runs uvicorn with the DIGITPAD_* settings (app/settings.py). Exec form: it is PID 1,
# so `docker stop` (SIGTERM) reaches it directly; uvicorn stops accepting connections, lets in-flight
# requests finish, and exits with code 0.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "app"]
