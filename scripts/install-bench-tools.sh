#!/bin/sh
# Installs the native load generators `npm run bench` uses: h2load (nghttp2-client) for gRPC and
# wrk for HTTP. Idempotent: does nothing when both are on PATH. Debian/Ubuntu (apt-get); run as
# root or with sudo. Without them the bench falls back to a slower node core load generator.
set -eu

if command -v h2load >/dev/null 2>&1 && command -v wrk >/dev/null 2>&1; then
  echo "h2load and wrk are already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: install h2load (nghttp2) and wrk with your package manager" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "run as root (or install sudo) to install nghttp2-client and wrk" >&2
    exit 1
  fi
fi

$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nghttp2-client wrk >/dev/null
command -v h2load && command -v wrk
