#!/usr/bin/env bash
# Host tools for the edge tests: a real sshd (tests/edge/test_deploy_ssh.py) and qemu-user
# (the emulated Raspberry Pi, edge/deploy/emulated.py). Idempotent: installs only what is missing.
#   bash .ci/setup-edge.sh        (`make test` runs it; as root, or with passwordless sudo)
set -euo pipefail

need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v rsync >/dev/null || need+=(rsync)
if [ ${#need[@]} -eq 0 ]; then
    echo "setup-edge: qemu-user-static, openssh-server and rsync already installed"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null || ! sudo -n true 2>/dev/null; then   # never prompt
        echo "setup-edge: ${need[*]} missing, and installing needs root: ask an administrator to run" \
             "'sudo apt-get install ${need[*]}' (the edge tests that need them skip until then)" >&2
        exit 1
    fi
    SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
echo "setup-edge: installing ${need[*]}"
$SUDO apt-get update -qq
# policy-rc.d stops the package from starting a system-wide sshd; the tests start their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
