#!/bin/sh
# Fetches the config files Debian ships for neutron-openvswitch-agent
# 21.0.0 (package neutron-common) into build/debian-stock, so that the unit
# tests can check that ovsagent reads them as the reference agent does:
#
#   build/debian-stock/neutron.conf
#   build/debian-stock/plugins/ml2/openvswitch_agent.ini
#
# The tests find them through OVSAGENT_STOCK_CONF=build/debian-stock.
# Running this again once the files are there does nothing.  Needs apt
# sources that carry neutron-common (Debian 12 main does).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
dest=$BUILD/debian-stock

if [ -f "$dest/neutron.conf" ] \
   && [ -f "$dest/plugins/ml2/openvswitch_agent.ini" ]; then
    exit 0
fi

work=$(mktemp -d "$BUILD/debian-stock.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT

# "apt-get download" writes into the current directory.  As root it also
# warns that the _apt user cannot write there; that is harmless.
(cd "$work" && apt-get download neutron-common) || {
    echo "fetch-stock-conf: cannot download neutron-common" \
         "(try apt-get update)" >&2
    exit 1
}
dpkg-deb -x "$work"/neutron-common_*.deb "$work/x"

src=$work/x/usr/share/neutron-common
for f in neutron.conf plugins/ml2/openvswitch_agent.ini; do
    if [ ! -f "$src/$f" ]; then
        echo "fetch-stock-conf: $f missing from neutron-common" >&2
        exit 1
    fi
done

# Assemble beside the destination, then move into place, so that an
# interrupted run never leaves a half-filled directory behind.
mkdir -p "$work/out/plugins/ml2"
cp "$src/neutron.conf" "$work/out/neutron.conf"
cp "$src/plugins/ml2/openvswitch_agent.ini" \
   "$work/out/plugins/ml2/openvswitch_agent.ini"
rm -rf "$dest"
mv "$work/out" "$dest"
