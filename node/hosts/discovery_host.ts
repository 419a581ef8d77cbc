/** The node as the cascade sees it (discovery/DiscoveryHost). */
import { mergeAddresses } from "../contacts/mod.ts";
import type { Contact } from "../contacts/mod.ts";
import type { DiscoveryHost, KnownPeer } from "../discovery/mod.ts";
import { fingerprint } from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";
import type { NodeParts } from "./parts.ts";

const known = (c: Contact): KnownPeer => ({
  publicKey: c.publicKey,
  name: c.name,
  addresses: c.addresses,
  anchor: c.anchor,
  recordSeq: c.recordSeq,
});

export function discoveryHost(p: NodeParts): DiscoveryHost {
  const live = (peer: Uint8Array) => {
    const s = p.sessions.get(peer);
    return s
      ? { peer: s.peer, rpc: s.rpc, anchor: p.contacts.get(peer)?.anchor ?? false }
      : undefined;
  };
  return {
    keyPair: p.keyPair,
    signer: p.signer,
    passive: p.passive,
    now: () => p.clock.now(),
    log: (line) => p.bus.say(line),
    // An anchor dials nobody and publishes nothing.
    peers: () => (p.passive ? [] : p.contacts.all().filter((c) => !c.blocked).map(known)),
    sessions: () => p.sessions.all().map((s) => live(s.peer)!),
    session: live,
    dial: (peer, addr, race) => {
      const c = p.contacts.accepted(peer.publicKey);
      return c ? p.sessions.dialAt(c, addr, race ? { race } : {}) : Promise.resolve(false);
    },
    learnt: async (peer, record, via) => {
      const c = p.contacts.get(peer);
      if (!c || record.seq <= c.recordSeq) return;
      await p.contacts.update(peer, {
        addresses: mergeAddresses(record.addresses, []),
        recordSeq: record.seq,
      });
      p.sessions.learntVia.set(toHex(peer), via);
      await p.relay().learnt(peer, record.relays);
      p.bus.say(
        `learnt ${c.name}'s addresses ${via}: ${
          record.addresses.join(", ")
        } (record ${record.seq})`,
      );
      p.bus.emit({
        type: "record-learnt",
        peer: c.name,
        fingerprint: fingerprint(peer),
        seq: record.seq,
        via,
        addresses: record.addresses,
      });
    },
    note: (n) => {
      if (n.type === "all_reached") {
        p.bus.emit({
          type: "cascade",
          state: "all-reached",
          contacts: n.contacts,
          rounds: n.rounds,
        });
      } else if (n.type === "backing_off") {
        p.bus.emit({ type: "cascade", state: "backing-off", left: n.left, reason: n.reason });
      } else p.bus.emit({ type: "cascade", state: "done", failed: n.failed, ms: n.ms });
    },
    addresses: () => p.addresses.published(),
    relays: () => p.relay().relays(),
    dialRelayed: (peer) => p.relay().dialRelayed(peer.publicKey),
  };
}
