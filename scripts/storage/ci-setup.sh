#!/usr/bin/env bash
# Installs what the cloud-storage tests need beyond `npm ci`: Debian's Ceph packages for the S3
# server (Ceph RADOS Gateway). azurite and firebase-tools (GCS emulator) are npm devDependencies.
# The tests start and stop the servers themselves (test/helpers/storage-servers.ts).
# Idempotent; takes about 30 s the first time. Needs root (or sudo) for apt-get.
set -euo pipefail
if command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null && command -v curl >/dev/null; then
  echo "ceph-mon, ceph-osd, radosgw and curl already installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd radosgw curl >/dev/null
# The packages' postinst scripts print "policy-rc.d denied execution of start" and "Failed to
# connect to bus" in containers: harmless, nothing is started by them.
echo "installed: $(radosgw --version | head -1)"
