#!/usr/bin/env bash
# npm run bench:setup — installs, from Debian, what `npm run bench` measures
# against and with (run as root; the lab's contenders):
#   iperf3                       the traffic (TCP 1 and 4 streams, UDP 1400 B and 64 B)
#   socat                        socat TUN<->UDP
#   openvpn                      OpenVPN 2.6 peer-to-peer, cleartext
#   wireguard-go wireguard-tools wireguard-go and `wg` to configure it
#   iproute2 iputils-ping        namespaces, veth, VXLAN; ping RTT
# Plain veth and kernel VXLAN need nothing more; pptp-ts is this checkout.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "bench:setup: run as root (apt-get)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  iperf3 socat openvpn wireguard-go wireguard-tools iproute2 iputils-ping
