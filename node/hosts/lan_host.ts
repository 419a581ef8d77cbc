/** The node as LAN announcements see it (lan/LanHost). */
import type { NodeEvent } from "../api/mod.ts";
import { pairwise } from "../discovery/mod.ts";
import { fingerprint } from "../identity/mod.ts";
import type { LanHost, LanNote } from "../lan/mod.ts";
import { toHex } from "../log/mod.ts";
import type { Endpoint } from "../transport/mod.ts";
import { nameOf, type NodeParts } from "./parts.ts";

export function lanHost(p: NodeParts, listening: () => Endpoint | undefined): LanHost {
  return {
    publicKey: p.keyPair.publicKey,
    pair: pairwise(p.keyPair, p.agreeKeyOf),
    clock: p.clock,
    log: (line) => p.bus.say(line),
    note: (n) => p.bus.emit(lanEvent(p, n)),
    contacts: () =>
      p.contacts.all()
        .filter((c) => !c.blocked && !c.anchor && p.contacts.accepted(c.publicKey))
        .map((c) => c.publicKey),
    name: (peer) => nameOf(p, peer),
    sshPort: () => listening()?.port,
    sshIpv6: () => listening()?.host === "::",
    // A session through a relay is worth replacing by a LAN one.
    wanted: (peer) => {
      const s = p.sessions.get(peer);
      return !s || s.via !== undefined;
    },
    dial: async (peer, addr) => {
      const contact = p.contacts.accepted(peer);
      if (!contact) return false;
      const ok = await p.sessions.dialAt(contact, addr, { upgrade: true, path: "lan" });
      if (ok) p.sessions.learntVia.set(toHex(peer), "LAN announcement");
      return ok;
    },
  };
}

/** A LAN note as the node's event: keys become names and fingerprints. */
function lanEvent(p: NodeParts, n: LanNote): NodeEvent {
  switch (n.type) {
    case "interfaces":
      return { type: "lan-interfaces", interfaces: n.interfaces };
    case "announce":
      return { type: "lan-announce", interface: n.name, address: n.address, ok: n.ok };
    case "heard":
      return {
        type: "lan-heard",
        peer: nameOf(p, n.peer),
        fingerprint: fingerprint(n.peer),
        address: n.address,
        dial: n.dial,
      };
  }
}
