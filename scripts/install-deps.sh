#!/bin/sh
# Installs, with apt, everything ovsagent needs to build and to run its
# tests on Debian 12: the compiler tool chain, the OVS 3.1.0 source tarball,
# rabbitmq-c, and Open vSwitch's own daemons and utilities, RabbitMQ and
# Python's oslo.messaging (the real peer of the RPC tests), which the system
# tests start privately in a temporary directory; and clang with its
# libFuzzer runtime for the fuzz targets (scripts/fuzz).
#
# Debian's packaged services are never started by this script: a
# policy-rc.d is in place for the duration of the install, so the machine's
# own ovs-vswitchd stays off and the tests own every daemon they talk to.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config python3
      libssl-dev libcap-ng-dev openvswitch-source librabbitmq-dev
      openvswitch-switch openvswitch-common iproute2 iputils-ping procps
      xz-utils rabbitmq-server python3-oslo.messaging openssl
      sudo conntrack iptables ipset clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi

created_policy=no
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=yes
fi
trap '[ "$created_policy" = yes ] && rm -f /usr/sbin/policy-rc.d' EXIT

export DEBIAN_FRONTEND=noninteractive
# Another install running at the same time (unattended-upgrades, a second
# test run) holds the dpkg lock: wait for it rather than fail.  apt-get
# update takes the lock of the package lists as well, which that option
# does not cover, hence the retries.
lock_wait="-o DPkg::Lock::Timeout=600"
tries=0
# shellcheck disable=SC2086
until apt-get $lock_wait update -qq; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || exit 1
    echo "install-deps: apt-get update failed; retrying in 10 s" >&2
    sleep 10
done
# shellcheck disable=SC2086
apt-get $lock_wait install -y -qq --no-install-recommends $missing
