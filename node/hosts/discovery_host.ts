/** The node as the cascade sees it (discovery/DiscoveryHost). */
import { mergeAddresses } from "../contacts/mod.ts";
import type { Contact } from "../contacts/mod.ts";
import type { NodeEvent } from "../api/mod.ts";
import type { DiscoveryHost, DiscoveryNote, KnownPeer } from "../discovery/mod.ts";
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
  // Built again only when a contact changed: the cascade asks at every step of a run.
  let peers = { version: -1, list: [] as readonly KnownPeer[] };
  return {
    keyPair: p.keyPair,
    agreeKeyOf: p.agreeKeyOf,
    // Set once the node is wired (wiring_agree.ts); an anchor has none.
    personAgree: () => p.sessions.personAgree,
    signer: p.signer,
    passive: p.passive,
    storedId: (k) => p.contacts.storedId(k),
    now: () => p.clock.now(),
    log: (line) => p.bus.say(line),
    // An anchor dials nobody and publishes nothing.
    peers: () => {
      if (p.passive) return [];
      const version = p.contacts.version;
      if (peers.version !== version) {
        peers = { version, list: p.contacts.all().filter((c) => !c.blocked).map(known) };
      }
      return peers.list;
    },
    sessions: () => p.sessions.all().map((s) => live(s.peer)!),
    session: live,
    dial: (peer, addr, race) => {
      const c = p.contacts.accepted(peer.publicKey);
      return c ? p.sessions.dialAt(c, addr, race ? { race } : {}) : Promise.resolve(false);
    },
    learnt: async (peer, record, from) => {
      const via = from.source === "direct"
        ? "direct"
        : `via ${from.source === "anchor" ? "anchor " : ""}${from.holder}`;
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
        source: from.source,
        ...(from.holder !== undefined ? { holder: from.holder } : {}),
        addresses: record.addresses,
      });
    },
    note: (n) => p.bus.emit(discoveryEvent(n, (key) => p.contacts.get(key)?.name)),
    addresses: () => p.addresses.published(),
    relays: () => p.relay().relays(),
    dialRelayed: (peer) => p.relay().dialRelayed(peer.publicKey),
  };
}

/** A discovery note as the node's event; `name` names a contact here. */
export function discoveryEvent(
  n: DiscoveryNote,
  name: (key: Uint8Array) => string | undefined,
): NodeEvent {
  switch (n.type) {
    case "all_reached":
      return { type: "cascade", state: "all-reached", contacts: n.contacts, rounds: n.rounds };
    case "backing_off":
      return { type: "cascade", state: "backing-off", left: n.left, reason: n.reason };
    case "run_done":
      return {
        type: "cascade",
        state: "done",
        failed: n.failed,
        startedAt: n.startedAt,
        ms: n.ms,
        learnt: n.learnt,
      };
    case "published":
      return { type: "record-published", seq: n.seq, addresses: n.addresses, relays: n.relays };
    case "dropped":
      return {
        type: "record-dropped",
        peer: n.name,
        fingerprint: fingerprint(n.owner),
        from: n.from,
        reason: n.reason,
        ...(n.seq !== undefined ? { seq: n.seq } : {}),
        ...(n.have !== undefined ? { have: n.have } : {}),
      };
    case "handed_over":
      return {
        type: "records-handed",
        peer: name(n.peer) ?? fingerprint(n.peer),
        fingerprint: fingerprint(n.peer),
        ok: n.ok,
      };
  }
}
