#!/usr/bin/env bash
# The NAT lab: Linux network namespaces with nftables masquerade, for tests of
# reaching peers behind NAT. Every address exists only inside the namespaces.
#
#   wan (10.99.0.1, bridge br0) ─┬─ natA (10.99.0.2 | 192.168.50.1) ── homeA (192.168.50.2)
#                                └─ natB (10.99.0.3 | 192.168.60.1) ── homeB (192.168.60.2)
#
# With --lan-a, home network A is a switch (a bridge in natA) with two more
# hosts on it: homeA2 (192.168.50.3) and homeA3 (192.168.50.4), for tests of
# contacts on the same LAN. Without it the lab is exactly as drawn above.
#
# With --side-ab, homeA and homeB also share a second network, a switch in
# namespace "side" that routes nowhere: each has eth1 on it (192.168.77.2 and
# .3) besides its eth0, which keeps the default route through its own NAT, like
# a laptop on Wi-Fi and on a cable to the machine next to it. --side-ab6 makes
# that network IPv6-only (2001:db8:77::2 and ::3, no IPv4 at all).
#
# "wan" is the public internet with one host on it (an anchor runs there); natA
# and natB are home routers: they masquerade their LAN and drop new inbound
# connections on their wan side, as real routers do (without that rule the
# first punching packet from the other side creates a conntrack entry on the
# router and the outgoing port is remapped, see shared/NETLAB.md).
#
# Usage: netlab.sh setup [--symmetric-b] [--lan-a] [--ipv6] [--side-ab|--side-ab6] | teardown | status | upnp-a [--pmp-only]
#   upnp-a          (after setup) natA becomes a UPnP-IGD / NAT-PMP router: Debian's
#                   miniupnpd (nftables backend) runs in it. miniupnpd refuses to map
#                   on a private external address, so natA's wan side gets 11.99.0.2
#                   (wan: 11.99.0.1), which its LAN then goes out as and the mappings
#                   use. Stopped by teardown. --pmp-only: NAT-PMP but no UPnP-IGD.
#   --symmetric-b   natB maps each destination to a new port (`masquerade random`),
#                   like a symmetric NAT: UDP hole punching through it fails.
#   --lan-a         two more hosts in home network A (see above).
#   --side-ab       a second network between homeA and homeB (see above);
#   --side-ab6      the same, IPv6 only.
#   --ipv6          global IPv6 too (documentation prefix 2001:db8::/32): wan
#                   2001:db8:99::1, homeA 2001:db8:50::2, homeB 2001:db8:60::2, routed
#                   without NAT; the routers filter only IPv4, like a home router
#                   whose IPv6 firewall lets contacts in.
# Namespaces are named "$NETLAB_PREFIX-wan" etc. (default prefix "roj"), so
# several labs can exist at once. Setup and teardown are idempotent; needs root,
# iproute2 and nftables.
set -euo pipefail
PREFIX="${NETLAB_PREFIX:-roj}"
if ! [[ "$PREFIX" =~ ^[a-zA-Z0-9]{1,10}$ ]]; then
  echo "netlab: NETLAB_PREFIX must be 1-10 letters or digits, not '$PREFIX'" >&2
  exit 2
fi
WAN="$PREFIX-wan" NATA="$PREFIX-natA" HOMEA="$PREFIX-homeA" NATB="$PREFIX-natB" HOMEB="$PREFIX-homeB"
HOMEA2="$PREFIX-homeA2" HOMEA3="$PREFIX-homeA3" SIDE="$PREFIX-side"
ALL="$WAN $NATA $HOMEA $NATB $HOMEB $HOMEA2 $HOMEA3 $SIDE"

teardown() {
  local pidfile="/run/netlab-$PREFIX-miniupnpd.pid"
  if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; fi
  rm -f "/run/netlab-$PREFIX-miniupnpd.conf"
  # Deleting a namespace deletes its veths and their peers.
  for n in $ALL; do ip netns del "$n" 2>/dev/null || true; done
}

# lan_host ROUTER-NS BRIDGE PORT-IF HOME-NS HOME-IP GW: one more host on a router's LAN bridge.
lan_host() {
  local r=$1 br=$2 port=$3 h=$4 hip=$5 gw=$6
  ip -n "$r" link add "$port" type veth peer name eth0 netns "$h"
  ip -n "$r" link set "$port" master "$br"
  ip -n "$r" link set "$port" up
  ip -n "$h" addr add "$hip/24" dev eth0
  for dev in eth0 lo; do ip -n "$h" link set "$dev" up; done
  ip -n "$h" route add default via "$gw"
}

# side_network FAMILY: the switch between homeA and homeB (FAMILY ipv4 or ipv6).
side_network() {
  local family=$1
  ip netns add "$SIDE"
  ip -n "$SIDE" link add sw type bridge
  # No IGMP/MLD snooping: without a querier it would stop multicast between the hosts.
  ip -n "$SIDE" link set sw type bridge mcast_snooping 0
  ip -n "$SIDE" link set sw up
  local h port n
  for n in 2 3; do
    if [ "$n" = 2 ]; then h=$HOMEA port=sideA; else h=$HOMEB port=sideB; fi
    ip -n "$SIDE" link add "$port" type veth peer name eth1 netns "$h"
    ip -n "$SIDE" link set "$port" master sw
    ip -n "$SIDE" link set "$port" up
    if [ "$family" = ipv4 ]; then
      ip -n "$h" addr add "192.168.77.$n/24" dev eth1
    else
      ip -n "$h" addr add "2001:db8:77::$n/64" dev eth1 nodad
    fi
    ip -n "$h" link set eth1 up
  done
}

# nat_router ROUTER-NS WAN-IF PUBLIC-IP LAN-IF LAN-GW HOME-NS HOME-IP LAN-CIDR MASQUERADE-FLAGS [SWITCHED]
# With SWITCHED=1 the LAN side is a bridge (a switch) rather than one veth, so
# more hosts can join it (lan_host); the nftables rules are the same.
nat_router() {
  local r=$1 wif=$2 pub=$3 lif=$4 gw=$5 h=$6 hip=$7 lan=$8 flags=$9 switched=${10:-0}
  ip -n "$WAN" link add "wan-$wif" type veth peer name "$wif" netns "$r"
  if [ "$switched" = 1 ]; then
    ip -n "$r" link add "$lif" type bridge
    # No IGMP snooping: without a querier it would stop multicast between the hosts.
    ip -n "$r" link set "$lif" type bridge mcast_snooping 0
    ip -n "$r" link add "${lif}p1" type veth peer name eth0 netns "$h"
    ip -n "$r" link set "${lif}p1" master "$lif"
    ip -n "$r" link set "${lif}p1" up
  else
    ip -n "$r" link add "$lif" type veth peer name eth0 netns "$h"
  fi
  # Where br_netfilter is loaded, frames between two hosts of the switch pass
  # the ip forward hook too: let them (a switch does not filter).
  local switching=""
  [ "$switched" = 1 ] && switching="iifname \"$lif\" oifname \"$lif\" accept"
  ip -n "$WAN" link set "wan-$wif" master br0
  ip -n "$r" addr add "$pub/24" dev "$wif"
  ip -n "$r" addr add "$gw/24" dev "$lif"
  ip -n "$h" addr add "$hip/24" dev eth0
  ip -n "$WAN" link set "wan-$wif" up
  for dev in "$wif" "$lif" lo; do ip -n "$r" link set "$dev" up; done
  for dev in eth0 lo; do ip -n "$h" link set "$dev" up; done
  ip -n "$h" route add default via "$gw"
  ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$r" nft -f - <<EOF
flush ruleset
table ip nat {
  chain postrouting { type nat hook postrouting priority srcnat; policy accept;
    oifname "$wif" ip saddr $lan masquerade $flags
  }
}
table ip filter {
  chain input { type filter hook input priority filter; policy accept;
    iifname "$wif" ct state new drop
  }
  chain forward { type filter hook forward priority filter; policy drop;
    ct state established,related accept
    $switching
    iifname "$lif" oifname "$wif" ip saddr $lan accept
  }
}
EOF
}

# v6_router ROUTER-NS WAN-IF PUBLIC-IP6 LAN-IF LAN-PREFIX HOME-NS OTHER-ROUTER OTHER-PREFIX
v6_router() {
  local r=$1 wif=$2 pub=$3 lif=$4 pfx=$5 h=$6 other=$7 otherpfx=$8
  ip netns exec "$r" sysctl -qw net.ipv6.conf.all.forwarding=1
  ip -n "$r" addr add "$pub/64" dev "$wif" nodad
  ip -n "$r" addr add "$pfx::1/64" dev "$lif" nodad
  ip -n "$r" route add "$otherpfx::/64" via "$other"
  ip -n "$h" addr add "$pfx::2/64" dev eth0 nodad
  ip -n "$h" route add default via "$pfx::1"
}

setup() {
  local flagsB="" lanA=0 ipv6=0 side=""
  for opt in "$@"; do
    case "$opt" in
      --symmetric-b) flagsB="random" ;;
      --lan-a) lanA=1 ;;
      --ipv6) ipv6=1 ;;
      --side-ab) side=ipv4 ;;
      --side-ab6) side=ipv6 ;;
      *) echo "netlab: unknown option '$opt' (expected --symmetric-b, --lan-a, --ipv6, --side-ab or --side-ab6)" >&2; exit 2 ;;
    esac
  done
  for tool in ip nft; do
    command -v "$tool" >/dev/null || { echo "netlab: '$tool' is missing (apt-get install iproute2 nftables)" >&2; exit 1; }
  done
  teardown
  for n in $WAN $NATA $HOMEA $NATB $HOMEB; do ip netns add "$n"; done
  ip -n "$WAN" link set lo up
  # The "internet": one /24 shared by the wan host and both routers' public sides.
  ip -n "$WAN" link add br0 type bridge
  ip -n "$WAN" link set br0 up
  ip -n "$WAN" addr add 10.99.0.1/24 dev br0
  nat_router "$NATA" wanA 10.99.0.2 lanA 192.168.50.1 "$HOMEA" 192.168.50.2 192.168.50.0/24 "" "$lanA"
  if [ "$lanA" = 1 ]; then
    ip netns add "$HOMEA2"
    ip netns add "$HOMEA3"
    lan_host "$NATA" lanA lanAp2 "$HOMEA2" 192.168.50.3 192.168.50.1
    lan_host "$NATA" lanA lanAp3 "$HOMEA3" 192.168.50.4 192.168.50.1
  fi
  nat_router "$NATB" wanB 10.99.0.3 lanB 192.168.60.1 "$HOMEB" 192.168.60.2 192.168.60.0/24 "$flagsB"
  if [ "$ipv6" = 1 ]; then
    ip -n "$WAN" addr add 2001:db8:99::1/64 dev br0 nodad
    ip -n "$WAN" route add 2001:db8:50::/64 via 2001:db8:99::2
    ip -n "$WAN" route add 2001:db8:60::/64 via 2001:db8:99::3
    v6_router "$NATA" wanA 2001:db8:99::2 lanA 2001:db8:50 "$HOMEA" 2001:db8:99::3 2001:db8:60
    v6_router "$NATB" wanB 2001:db8:99::3 lanB 2001:db8:60 "$HOMEB" 2001:db8:99::2 2001:db8:50
  fi
  if [ -n "$side" ]; then side_network "$side"; fi
}

# natA as a router that maps ports on request (UPnP-IGD and NAT-PMP).
upnp_a() {
  local upnp=yes
  case "${1:-}" in
    "") ;;
    --pmp-only) upnp=no ;;
    *) echo "netlab: unknown option '$1' (expected --pmp-only)" >&2; exit 2 ;;
  esac
  command -v miniupnpd >/dev/null || [ -x /usr/sbin/miniupnpd ] ||
    { echo "netlab: 'miniupnpd' is missing (apt-get install miniupnpd)" >&2; exit 1; }
  ip netns list | grep -q "^$NATA" || { echo "netlab: run setup first" >&2; exit 1; }
  ip -n "$NATA" addr add 11.99.0.2/24 dev wanA
  ip -n "$WAN" addr add 11.99.0.1/24 dev br0
  # miniupnpd writes its DNAT rules into this table's chains; the lab's forward
  # chain lets through what a mapping redirected, as a home router does.
  ip netns exec "$NATA" nft -f - <<EOF
table inet roj_upnp {
  chain miniupnpd {}
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; jump prerouting_miniupnpd; }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; jump postrouting_miniupnpd; }
  chain prerouting_miniupnpd {}
  chain postrouting_miniupnpd {}
}
EOF
  ip netns exec "$NATA" nft insert rule ip filter forward ct status dnat accept
  # One public address, as on a real router: the LAN goes out as 11.99.0.2 too.
  ip netns exec "$NATA" nft insert rule ip nat postrouting oifname wanA ip saddr 192.168.50.0/24 snat to 11.99.0.2
  local conf="/run/netlab-$PREFIX-miniupnpd.conf" pidfile="/run/netlab-$PREFIX-miniupnpd.pid"
  cat >"$conf" <<EOF
ext_ifname=wanA
ext_ip=11.99.0.2
listening_ip=lanA
enable_natpmp=yes
enable_upnp=$upnp
secure_mode=yes
system_uptime=yes
upnp_table_name=roj_upnp
upnp_nat_table_name=roj_upnp
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
uuid=36b5a0c3-fa94-4ec0-8681-3c6e5e98$(printf '%04x' $((RANDOM % 65536)))
allow 1024-65535 192.168.50.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
  ip netns exec "$NATA" /usr/sbin/miniupnpd -f "$conf" -P "$pidfile"
  for _ in $(seq 50); do
    [ -s "$pidfile" ] && return 0
    sleep 0.1
  done
  echo "netlab: miniupnpd did not start in $NATA" >&2
  exit 1
}

status() {
  for n in $ALL; do
    # The --lan-a hosts and the side network only when the lab has them.
    if [[ "$n" == "$HOMEA2" || "$n" == "$HOMEA3" || "$n" == "$SIDE" ]] && ! [ -e "/run/netns/$n" ]; then continue; fi
    echo "== $n"
    ip -n "$n" -br addr 2>/dev/null || echo "(absent)"
  done
  if ip netns exec "$NATB" nft list ruleset 2>/dev/null | grep -q "masquerade random"; then
    echo "natB: symmetric (masquerade random)"
  fi
}

case "${1:-}" in
  setup) shift; setup "$@" ;;
  teardown) teardown ;;
  status) status ;;
  upnp-a) upnp_a "${2:-}" ;;
  *) echo "usage: $0 setup [--symmetric-b] [--lan-a] [--ipv6] [--side-ab|--side-ab6] | teardown | status | upnp-a [--pmp-only]" >&2; exit 2 ;;
esac
