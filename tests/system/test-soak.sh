#!/bin/bash
# The chaos soak, short: bench/soak with a fixed seed, 6 cycles and 6 VM
# ports on two hypervisors.  Each cycle plugs, unplugs, moves, sets admin
# down or up, or changes security-group rules, and injects one fault; the
# rotation gives every kind one cycle: RabbitMQ, neutron-server,
# ovsdb-server, ovs-vswitchd, and the agent by SIGTERM and by SIGKILL.
# After each cycle, a checkpoint: every port ACTIVE or DOWN in the API as
# it should be, wired, pinging; the agents caught up (connected, nothing
# pending, no forwarding database being refreshed); flows in sync and
# equal to the desired ones, under one cookie; no leaked OVSDB row, tunnel
# or patch port; and the flows equal to what a freshly started agent
# computes.  Then the agent's memory and logs.  See bench/soak for the
# details; the same code runs there for as long as one likes.
# run-tests: timeout=420
set -euo pipefail
export TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
exec "$(dirname "$0")/../../bench/soak" --seed 20261207 --cycles 6 --ports 6 \
    --faults all --ops 3
