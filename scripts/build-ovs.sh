#!/bin/sh
# Builds the static Open vSwitch library that ovsagent links against.
#
# The source is OVS 3.1.0 from Debian's openvswitch-source package, or any
# OVS 3.1 tree named by OVS_SRCDIR.  The build lives in $BUILD/ovs (default
# build/ovs) and is done once: a stamp file records the source it was made
# from, so rebuilding ovsagent never rebuilds OVS.
#
# OVS_FLAVOR=fuzz builds a second library, in $BUILD/ovs-fuzz, for the fuzz
# targets (make FUZZ=1, scripts/fuzz): compiled by clang with libFuzzer's
# coverage instrumentation, ASan and UBSan, so that OVS's own JSON parser
# is fuzzed and checked along with ours.  It is done once too, and the
# default build is not affected by it.
#
# Only the library and the headers it generates are built.  "make
# lib/libopenvswitch.la" alone is not enough: generated headers such as
# include/odp-netlink.h come from BUILT_SOURCES, so those are made first.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
case ${OVS_FLAVOR:-} in
'')
    ovsbuild=$BUILD/ovs
    set -- CFLAGS="-O2 -g"
    ;;
fuzz)
    ovsbuild=$BUILD/ovs-fuzz
    set -- CC=clang \
        CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined"
    ;;
*)
    echo "build-ovs: unknown OVS_FLAVOR \"$OVS_FLAVOR\" (use fuzz or nothing)" >&2
    exit 1
    ;;
esac
jobs=${JOBS:-$(nproc)}

if [ -n "${OVS_SRCDIR:-}" ]; then
    src=$(cd "$OVS_SRCDIR" && pwd)
else
    tarball=$(ls /usr/src/openvswitch/openvswitch.tar.* 2>/dev/null | head -n 1)
    if [ -z "$tarball" ]; then
        echo "build-ovs: no OVS source: install openvswitch-source or set OVS_SRCDIR" >&2
        exit 1
    fi
    src=$BUILD/ovs-src/openvswitch
    if [ ! -f "$src/configure" ]; then
        rm -rf "$BUILD/ovs-src"
        mkdir -p "$BUILD/ovs-src"
        tar -xf "$tarball" -C "$BUILD/ovs-src"
    fi
fi

stamp=$ovsbuild/.ovsagent-stamp
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$src" ] \
   && [ -f "$ovsbuild/lib/.libs/libopenvswitch.a" ]; then
    exit 0
fi

if [ ! -f "$src/configure" ]; then
    (cd "$src" && ./boot.sh)
fi

mkdir -p "$ovsbuild"
cd "$ovsbuild"
if [ ! -f config.status ]; then
    # The prefix and state directories are the ones Debian's packages use,
    # so the library's default run directory is /var/run/openvswitch.
    "$src/configure" --prefix=/usr --localstatedir=/var --sysconfdir=/etc \
        --enable-static --disable-shared \
        "$@" > configure.log 2>&1 \
        || { tail -n 30 configure.log >&2; exit 1; }
fi

built=$(printf 'ovsagent-print-built:\n\t@echo $(BUILT_SOURCES)\n' \
        | make -s -f Makefile -f - ovsagent-print-built)
# shellcheck disable=SC2086
make -s -j"$jobs" $built > make.log 2>&1 || { tail -n 30 make.log >&2; exit 1; }
make -s -j"$jobs" lib/libopenvswitch.la >> make.log 2>&1 \
    || { tail -n 30 make.log >&2; exit 1; }

echo "$src" > "$stamp"
