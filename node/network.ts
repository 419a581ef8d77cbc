/**
 * The node's listening side: the SSH server, the UDP endpoint (SSH over
 * QUIC, punch probes) and the puncher, the router's port mapping, and LAN
 * announcements, started in that order and stopped in reverse.
 */
import { fingerprint } from "./identity/mod.ts";
import { helloFeatures, type RpcSession } from "./protocol/mod.ts";
import { lanHost, type NodeParts, punchHost } from "./hosts/mod.ts";
import { Lan } from "./lan/mod.ts";
import type { ResolvedOptions } from "./options.ts";
import type { NodeEvent } from "./api/mod.ts";
import { type PortMap, type PortMapNote, portMapOff, startPortMap } from "./portmap/mod.ts";
import { Puncher, type PunchResult } from "./punch/mod.ts";
import type { Relay } from "./relay/mod.ts";
import {
  type Endpoint,
  formatEndpoint,
  type InboundPeer,
  listenSsh,
  makeQuicCert,
  openQuicService,
  type Pipe,
  type QuicService,
  type SftpView,
  type SshServer,
} from "./transport/mod.ts";

/** What the server hands to the rest of the node. */
export interface NetworkHooks {
  /** Whether this key may log in with this user name (invites/InviteFlow.authorize). */
  authorize(username: string, key: Uint8Array): boolean;
  /** An authenticated peer opened the roj subsystem (sessions/SessionManager.inbound). */
  inbound(peer: InboundPeer, pipe: Pipe): void;
  /** What a peer sees over sftp, if anything. */
  sftpView(peer: InboundPeer): SftpView | undefined;
  relay(): Relay;
}

export class Network {
  readonly #o: ResolvedOptions;
  readonly #parts: NodeParts;
  readonly #hooks: NetworkHooks;
  #server: SshServer | undefined;
  #quic: QuicService | undefined;
  #punch: Puncher | undefined;
  #portMap: PortMap | undefined;
  #lan: Lan | undefined;

  constructor(o: ResolvedOptions, parts: NodeParts, hooks: NetworkHooks) {
    this.#o = o;
    this.#parts = parts;
    this.#hooks = hooks;
  }

  get server(): SshServer | undefined {
    return this.#server;
  }

  /** Where the SSH server listens, once it does. */
  get listening(): Endpoint | undefined {
    return this.#server?.address;
  }

  /** The router's external address for our port, if it mapped one. */
  get mapped(): string | undefined {
    return this.#portMap?.external;
  }

  get puncher(): Puncher | undefined {
    return this.#punch;
  }

  get portMap(): PortMap | undefined {
    return this.#portMap;
  }

  /** The features our hello lists: what this node is and what it started. */
  features(relaying: boolean): string[] {
    return helloFeatures({
      passive: this.#o.passive,
      punch: this.#quic !== undefined,
      relay: relaying,
      carry: this.#o.carry,
      devlink: !this.#o.passive,
      devsync: !this.#o.passive,
    }).filter((f) => !this.#o.omitFeatures.includes(f));
  }

  /** Whether `key` announced itself on our LAN from `host` (node/lan). */
  lanHeardAt(key: Uint8Array, host: string): boolean {
    return this.#lan?.heardAt(key, host) ?? false;
  }

  /** The punch requests a contact may make on a session. */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    this.#punch?.serve(rpc, peer);
  }

  /** Tries a punched UDP path to contact `peer` now; a failure says why. */
  punch(peer: Uint8Array): Promise<PunchResult> {
    return this.#punch?.punch(peer) ??
      Promise.resolve({
        ok: false,
        code: "no-udp",
        reason: "this node has no UDP endpoint",
        attempts: [],
      });
  }

  /** @throws {RojError} bad_input or exists when the address cannot be listened on. */
  async start(): Promise<void> {
    const o = this.#o;
    const bus = this.#parts.bus;
    if (this.#server) throw new Error("the network is already started");
    const relay = this.#hooks.relay();
    relay.start(o.relay, o.relay);
    const server = this.#server = await listenSsh({
      keyPair: this.#parts.keyPair,
      signer: this.#parts.signer,
      host: o.listen.host,
      port: o.listen.port,
      authorize: (u, k) => this.#hooks.authorize(u, k),
      onRoj: (peer, pipe) => this.#hooks.inbound(peer, pipe),
      sftpView: (peer) => this.#hooks.sftpView(peer),
      onStream: (peer, subsystem, accept) => relay.onChannel(peer, subsystem, accept),
      log: (line) => bus.say(line),
      clock: this.#parts.clock,
      onThrottled: (source) => bus.emit({ type: "auth-throttled", source }),
    });
    bus.say(
      `listening on ${formatEndpoint(server.address)} as ${this.#parts.name} ${
        fingerprint(this.#parts.keyPair.publicKey)
      }`,
    );
    if (o.quic) await this.#startQuic(server);
    this.#portMap = !o.portMap
      ? portMapOff("--no-upnp")
      : o.advertise.length > 0
      ? portMapOff("--advertise names the address")
      : startPortMap({
        port: server.address.port,
        host: server.address.host,
        udp: this.#quic !== undefined,
        log: (line) => bus.say(line),
        note: (n) => bus.emit(portMapEvent(n)),
        onChange: () => this.#parts.discovery().trigger("port mapped").catch(() => {}),
        clock: this.#parts.clock,
        ...(o.portMapLeaseMs ? { leaseMs: o.portMapLeaseMs } : {}),
      });
    if (o.lan) {
      this.#lan = new Lan(lanHost(this.#parts, () => this.listening));
      if (!await this.#lan.start()) this.#lan = undefined;
    }
  }

  /**
   * The UDP endpoint on the listen port (another port if that one is taken:
   * coordinators report whatever port they see) and the puncher. Without it
   * the node still works over TCP.
   */
  async #startQuic(server: SshServer): Promise<void> {
    const bus = this.#parts.bus;
    const cert = await makeQuicCert(this.#parts.clock.now());
    const serve = (port: number) =>
      openQuicService({
        host: server.address.host,
        port,
        cert,
        onSsh: (socket) => server.inject(socket),
        onProbe: (conn, stream, from) => this.#punch?.onProbe(conn, stream, from),
        log: (line) => bus.say(line),
        clock: this.#parts.clock,
      });
    try {
      try {
        this.#quic = serve(server.address.port);
      } catch {
        this.#quic = serve(0);
      }
    } catch (err) {
      bus.say(`no UDP endpoint, so no punched paths: ${(err as Error).message}`);
      return;
    }
    this.#punch = new Puncher(punchHost(this.#parts, () => this.#quic));
    if (!this.#o.passive) this.#punch.start();
  }

  /** Stops punching, LAN announcements and the port mapping; then `endSessions`; then the server. */
  async close(endSessions: () => void): Promise<void> {
    this.#punch?.close();
    this.#lan?.close();
    await this.#portMap?.close();
    endSessions();
    await this.#server?.close();
    this.#quic?.close();
  }
}

/** What the router said, as far as an event carries it. */
const MAX_ROUTER_TEXT = 64;

/** A port mapping's note as the node's event; the router's words bounded. */
function portMapEvent(n: PortMapNote): NodeEvent {
  const bound = (s: string) => s.slice(0, MAX_ROUTER_TEXT);
  switch (n.type) {
    case "mapped":
      return {
        type: "port-map",
        state: "mapped",
        method: n.method,
        gateway: bound(n.gateway),
        external: bound(n.external),
        internal: n.internal,
        protocols: n.protocols,
        leaseSeconds: n.leaseSeconds,
      };
    case "udp-refused":
    case "renewal-failed":
      return { type: "port-map", state: n.type, code: n.code };
    case "renewed":
      return {
        type: "port-map",
        state: "renewed",
        external: bound(n.external),
        leaseSeconds: n.leaseSeconds,
        moved: n.moved,
      };
    case "removed":
    case "remove-failed":
      return { type: "port-map", state: n.type, mappings: n.mappings };
    case "none":
      return {
        type: "port-map",
        state: "none",
        tried: n.tried.map((t) => ({ ...t, ...(t.gateway ? { gateway: bound(t.gateway) } : {}) })),
      };
  }
}
