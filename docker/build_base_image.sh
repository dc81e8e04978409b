#!/usr/bin/env bash
# Build a local Debian bookworm base image with Python 3 (for machines without Docker Hub), and cache it.
#
#   docker/build_base_image.sh            # -> image localbase:bookworm
#   BASE_TAG=mybase:1 docker/build_base_image.sh
#
# The image is a debootstrap'ed minbase bookworm plus python3, python3-venv and python3-pip, with this
# machine's extra CA certificates (/usr/local/share/ca-certificates/*.crt) installed so that pip inside a
# build can verify the package index behind a TLS-intercepting proxy. Three levels of cache:
#   1. the image already exists in the engine, built from the same CA certificates -> nothing to do;
#   2. the rootfs tarball is in $CACHE_DIR -> `docker import` it (seconds, e.g. after dockerd restarts);
#   3. otherwise debootstrap + apt-get in a chroot (a few minutes), then save the tarball and import it.
# Needs root, debootstrap and network access to deb.debian.org (override with DEBIAN_MIRROR).
set -euo pipefail

BASE_TAG=${BASE_TAG:-localbase:bookworm}
SUITE=${SUITE:-bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE_DIR=${DIGITPAD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/digitpad}
EXTRA_CA_DIR=${EXTRA_CA_DIR:-/usr/local/share/ca-certificates}

log() { printf '[base-image] %s\n' "$*" >&2; }

# The CA certificates are baked into the image, so they are part of its identity: a machine whose extra
# CAs change gets a fresh base image instead of one that can no longer reach the package index.
shopt -s nullglob
ca_files=("$EXTRA_CA_DIR"/*.crt)
shopt -u nullglob
if ((${#ca_files[@]})); then
  ca_hash=$(cat "${ca_files[@]}" | sha256sum | cut -c1-12)
else
  ca_hash=none
fi
tarball="$CACHE_DIR/rootfs-$SUITE-ca-$ca_hash.tar"

if [ "$(docker image inspect --format '{{index .Config.Labels "digitpad.base.ca"}}' "$BASE_TAG" 2>/dev/null)" = "$ca_hash" ]; then
  log "$BASE_TAG is present (CA certificates $ca_hash); nothing to do"
  exit 0
fi

import_tarball() {
  log "importing $tarball as $BASE_TAG"
  docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL digitpad.base.ca=$ca_hash digitpad.base.suite=$SUITE" \
    --change 'CMD ["python3"]' \
    - "$BASE_TAG" < "$tarball" >/dev/null
}

if [ -s "$tarball" ]; then
  import_tarball
  exit 0
fi

command -v debootstrap >/dev/null || { log "debootstrap is not installed (apt-get install -y debootstrap)"; exit 1; }
[ "$(id -u)" = 0 ] || { log "debootstrap needs root"; exit 1; }

mkdir -p "$CACHE_DIR"
rootfs=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
chmod 755 "$rootfs" # mktemp makes it 0700; it becomes the image's / and must be readable by every user
proc_mounted=
cleanup() {
  if [ -n "$proc_mounted" ]; then umount "$rootfs/proc" || umount -l "$rootfs/proc" || true; fi
  rm -rf --one-file-system "$rootfs" "$tarball.part"
}
trap cleanup EXIT

start=$(date +%s)
log "debootstrap $SUITE from $DEBIAN_MIRROR into $rootfs (takes a few minutes)"
debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$rootfs.log" 2>&1 \
  || { tail -30 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"

for crt in "${ca_files[@]}"; do
  cp "$crt" "$rootfs/usr/local/share/ca-certificates/"
done

mount -t proc proc "$rootfs/proc"
proc_mounted=1
log "installing python3 python3-venv python3-pip in the chroot"
chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
  /bin/sh -ec '
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip >/dev/null
    update-ca-certificates >/dev/null
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log /tmp/* /root/.cache
  '
umount "$rootfs/proc"
proc_mounted=

# Leave a tidy image: no resolv.conf/hostname from this machine (docker provides its own at run time).
: >"$rootfs/etc/resolv.conf"
: >"$rootfs/etc/hostname"

log "saving $tarball"
tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
mv "$tarball.part" "$tarball"
# Older tarballs (other CA sets) are of no further use.
find "$CACHE_DIR" -maxdepth 1 -name "rootfs-$SUITE-ca-*.tar" ! -name "$(basename "$tarball")" -delete
import_tarball
log "done in $(($(date +%s) - start)) s: $(docker image inspect --format '{{.Size}}' "$BASE_TAG" | awk '{printf "%.0f MB", $1/1e6}')"
