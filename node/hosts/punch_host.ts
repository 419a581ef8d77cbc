/** The node as UDP hole punching sees it (punch/PunchHost). */
import type { PunchHost } from "../punch/mod.ts";
import { formatEndpoint, type QuicService } from "../transport/mod.ts";
import { nameOf, type NodeParts } from "./parts.ts";

export function punchHost(p: NodeParts, quic: () => QuicService | undefined): PunchHost {
  return {
    publicKey: p.keyPair.publicKey,
    clock: p.clock,
    log: (line) => p.bus.say(line),
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
