/** The node as relayed sessions and reachability see it (relay/RelayHost). */
import { fingerprint } from "../identity/mod.ts";
import { formatEndpoint, isIPv6Address, parseEndpoint, type SshServer } from "../transport/mod.ts";
import { dialHappyEyeballs } from "../peers/mod.ts";
import {
  DIAL_BACK_TIMEOUT_MS,
  type RelayHost,
  type RelayNote,
  type RelayPeerSession,
} from "../relay/mod.ts";
import type { NodeEvent } from "../api/mod.ts";
import { type LocalNetwork, localNetworks } from "../reach/mod.ts";
import { RojError } from "../errors.ts";
import type { LiveSession } from "../sessions/mod.ts";
import { acceptedContact, nameOf, type NodeParts } from "./parts.ts";

/**
 * How long a read of the machine's interfaces is reused: every session asks
 * (is this peer on our link?), and a hive that moves brings dozens at once,
 * while interfaces change far more rarely (own_addresses polls every 5 s).
 */
const NETWORKS_TTL_MS = 2000;

export function relayHost(p: NodeParts, server: () => SshServer | undefined): RelayHost {
  let networks: { at: number; list: LocalNetwork[] } | undefined;
  const view = (s: LiveSession): RelayPeerSession => ({
    peer: s.peer,
    rpc: s.rpc,
    direction: s.direction,
    anchor: p.contacts.get(s.peer)?.anchor ?? false,
    remote: s.remote,
    ...(s.path !== undefined ? { path: s.path } : {}),
    ...(s.via !== undefined ? { via: s.via } : {}),
  });
  return {
    self: p.keyPair.publicKey,
    passive: p.passive,
    clock: p.clock,
    log: (line) => p.bus.say(line),
    note: (n) => p.bus.emit(relayEvent(p, n)),
    nameOf: (peer) => nameOf(p, peer),
    accepts: (peer) => p.contacts.accepted(peer) !== undefined,
    known: (peer) => p.contacts.get(peer) !== undefined,
    session: (peer) => {
      const s = p.sessions.get(peer);
      return s ? view(s) : undefined;
    },
    sessions: () => p.sessions.all().map(view),
    dialClient: async (peer) => {
      const c = acceptedContact(p, peer);
      let last: unknown = new RojError("unreachable", `no address known for ${c.name}`);
      for (const addr of c.addresses) {
        try {
          return await p.sessions.dial({
            to: parseEndpoint(addr),
            expect: c.publicKey,
            expectName: c.name,
          });
        } catch (err) {
          last = err;
        }
      }
      throw last;
    },
    serveStream: (stream, via) => {
      const s = server();
      if (!s) throw new RojError("no_node", "the node is not running");
      s.serveStream(stream, via);
    },
    dialOver: async (stream, peer, via) => {
      const c = acceptedContact(p, peer);
      if (p.sessions.closing) return false;
      const { kept } = await p.sessions.establish(
        {
          to: { host: `${c.name} via ${via}`, port: 0 },
          sock: stream,
          expect: c.publicKey,
          expectName: c.name,
        },
        { remote: `via ${via}`, via },
      );
      return kept;
    },
    dialDirect: async (peer) => {
      const c = acceptedContact(p, peer);
      return await dialHappyEyeballs(
        c.addresses,
        (a, race) => p.sessions.dialAt(c, a, { upgrade: true, race }),
        { isIPv6: isIPv6Address, clock: p.clock },
      );
    },
    dialBack: async (to, peer) => {
      const reached = await p.sessions.dial({
        to,
        expect: peer,
        expectName: nameOf(p, peer),
        timeoutMs: DIAL_BACK_TIMEOUT_MS,
      }).then((client) => (client.close(), true), () => false);
      const [name, fp, address] = [nameOf(p, peer), fingerprint(peer), formatEndpoint(to)];
      p.bus.emit({ type: "dial-back", peer: name, fingerprint: fp, address, reached });
      return reached;
    },
    addresses: () => p.addresses.published(),
    localNetworks: () => {
      const now = p.clock.now();
      if (!networks || now - networks.at > NETWORKS_TTL_MS || now < networks.at) {
        networks = { at: now, list: localNetworks() };
      }
      return networks.list;
    },
    republish: (reason) => {
      p.discovery().trigger(reason).catch(() => {});
    },
  };
}

/** A relay's note as the node's event: keys become names and fingerprints. */
function relayEvent(p: NodeParts, n: RelayNote): NodeEvent {
  const who = (peer: Uint8Array) => ({ peer: nameOf(p, peer), fingerprint: fingerprint(peer) });
  switch (n.type) {
    case "reachability":
      return {
        type: "reachability",
        reachable: n.reachable,
        how: n.how,
        ...(n.peer ? who(n.peer) : {}),
      };
    case "dial-back-skipped":
      return { type: "dial-back-skipped", ...who(n.peer), code: n.code };
    case "dial-back":
      return { type: "dial-back", ...who(n.peer), address: n.address, reached: n.reached };
    case "relays-named":
      return {
        type: "relays-named",
        reachable: n.reachable ?? null,
        relays: n.relays.map((k) => nameOf(p, k)),
      };
    case "splice": {
      const ends = { from: nameOf(p, n.from), to: nameOf(p, n.to) };
      if (n.state === "up") return { type: "relay", state: "spliced", ...ends };
      if (n.state === "ended") return { type: "relay", state: "ended", ...ends, bytes: n.bytes };
      return { type: "relay", state: "refused", ...ends, code: n.code };
    }
    case "relay-failed":
      return { type: "relay-failed", ...who(n.peer), via: nameOf(p, n.via), code: n.code };
    case "moved-direct":
      return { type: "moved-direct", ...who(n.peer) };
  }
}
