/** The node as UDP hole punching sees it (punch/PunchHost). */
import type { NodeEvent } from "../api/mod.ts";
import { fingerprint } from "../identity/mod.ts";
import type { PunchHost, PunchNote } from "../punch/mod.ts";
import { formatEndpoint, type QuicService } from "../transport/mod.ts";
import { nameOf, type NodeParts } from "./parts.ts";

export function punchHost(p: NodeParts, quic: () => QuicService | undefined): PunchHost {
  return {
    publicKey: p.keyPair.publicKey,
    signer: p.signer,
    clock: p.clock,
    log: (line) => p.bus.say(line),
    note: (n) => p.bus.emit(punchEvent(p, n)),
    quic,
    // A relayed session neither coordinates nor stops a punch that would replace it.
    sessions: () => p.sessions.all().filter((s) => s.via === undefined),
    accepted: (peer) => p.contacts.accepted(peer) !== undefined,
    name: (peer) => nameOf(p, peer),
    unreached: () =>
      p.contacts.all().filter((c) => {
        if (c.blocked || c.anchor || !p.contacts.accepted(c.publicKey)) return false;
        // A session through a relay is worth replacing by a punched path.
        const s = p.sessions.get(c.publicKey);
        return !s || s.via !== undefined;
      }).map((c) => c.publicKey),
    // SSH to a contact over a punched QUIC stream; true when the session is kept.
    attach: async (peer, socket, at) => {
      const contact = p.contacts.accepted(peer);
      if (!contact || p.sessions.closing) {
        socket.destroy();
        return false;
      }
      const { kept } = await p.sessions.establish(
        { to: at, sock: socket, expect: peer, expectName: contact.name },
        { remote: formatEndpoint(at), path: "punched" },
      );
      return kept;
    },
  };
}

/** A puncher's note as the node's event: keys become names and fingerprints. */
function punchEvent(p: NodeParts, n: PunchNote): NodeEvent {
  const who = (peer: Uint8Array) => ({ peer: nameOf(p, peer), fingerprint: fingerprint(peer) });
  switch (n.type) {
    case "punched":
      return {
        type: "punch",
        ok: true,
        ...who(n.peer),
        via: nameOf(p, n.via),
        endpoint: n.endpoint,
      };
    case "punch-failed":
      return {
        type: "punch",
        ok: false,
        ...who(n.peer),
        code: n.code,
        attempts: n.attempts.map((a) => ({ via: nameOf(p, a.via), code: a.code })),
      };
    case "offer": {
      const from = { from: nameOf(p, n.from), fingerprint: fingerprint(n.from) };
      const via = nameOf(p, n.via);
      return n.accepted
        ? { type: "punch-offer", ...from, via, accepted: true, endpoint: n.endpoint }
        : { type: "punch-offer", ...from, via, accepted: false, code: n.code };
    }
    case "introduced":
      return { type: "punch-introduced", asker: nameOf(p, n.asker), target: nameOf(p, n.target) };
    case "nat-mapping":
      return { type: "nat-mapping", mapping: n.mapping, observations: n.observations };
  }
}
