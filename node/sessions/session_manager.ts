/**
 * The live sessions with contacts, and the one way a session comes to be.
 *
 * Every session, whichever way it came (we dialled an address, a LAN
 * announcement, an invite, a typed address, a relay's splice, a punched QUIC
 * stream; or the peer dialled us), goes the same way:
 *
 *   SSH up (host key checked) → open the roj subsystem → a protocol session
 *   served by every service (`onServe`) before its first frame → the peer's
 *   hello → `attach`: kept in the PeerSet, or closed as a duplicate → `onUp`
 *   listeners → the peer's requests served → `onDown` listeners when it ends.
 *
 * The peer's requests wait, unserved, from the moment the session is served
 * until it is kept: a request sent in the same flight as the hello is never
 * served by a session that is not registered yet (protocol/rpc.ts `hold`).
 *
 * `establish` is that path for sessions we open; `inbound` for the ones the
 * SSH server hands us.
 */
import type { Duplex } from "node:stream";
import type { Clock } from "../clock/mod.ts";
import { type Contact, type ContactBook, mergeAddresses } from "../contacts/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import {
  fingerprint,
  type KeyPair,
  publishedAgreementKey,
  type SyncSigner,
} from "../identity/mod.ts";
import { base64 } from "@scure/base";
import { bytesEqual } from "../wire/mod.ts";
import { toHex } from "../log/mod.ts";
import type { DialRace, PeerSession } from "../peers/mod.ts";
import { PeerSet } from "../peers/mod.ts";
import { RpcSession } from "../protocol/mod.ts";
import {
  dialSsh,
  type Endpoint,
  formatEndpoint,
  type InboundPeer,
  parseEndpoint,
  type Pipe,
  type SshClient,
} from "../transport/mod.ts";
import { sessionPath } from "../views/mod.ts";
import { TwinRefusal } from "./twin_refusal.ts";

/** A kept session, as the services see it. */
export interface LiveSession extends PeerSession {
  readonly contact: Contact;
  /**
   * The contact is an anchor: as the person accepted it, from the anchor's
   * invite (see invites/), never from what a hello says later.
   */
  readonly anchor: boolean;
  /** The SSH connection we dialled for it (none when the peer dialled us). */
  readonly client?: SshClient;
  /** The contact's device the session comes from (its own key), if not the contact's key. */
  readonly device?: Uint8Array;
}

/** How to open SSH to a peer. */
export interface DialPlan {
  readonly to: Endpoint;
  /** The key that must answer, or a test of it (a typed address: any contact's). */
  readonly expect: Uint8Array | ((key: Uint8Array) => boolean);
  /** Who we think is there, for messages. */
  readonly expectName: string;
  /** @default "roj" */
  readonly username?: string;
  /** Run SSH over this stream (a relay's splice, a punched QUIC stream) instead of dialling TCP. */
  readonly sock?: Duplex;
  readonly signal?: AbortSignal;
  /** @default the node's dial timeout */
  readonly timeoutMs?: number;
}

/** Where a session we open runs, as `roj peers` shows it. */
export interface Arrival {
  readonly remote: string;
  /** @default "direct" */
  readonly path?: "direct" | "punched" | "lan";
  /** The relay's name, for a session spliced through one. */
  readonly via?: string;
  /** The key the peer logged in with, when it is one of the contact's devices (node/linking). */
  readonly device?: Uint8Array;
}

export interface SessionManagerDeps {
  readonly keyPair: KeyPair;
  /** Signs our SSH authentication (a key file's key, or ssh-agent). */
  readonly signer: SyncSigner;
  /** Our X25519 key, published in the hello when our key is in ssh-agent. @default none */
  readonly agree?: Uint8Array | undefined;
  /** On a device of a person (node/linking): its certificate, sent in every hello. @default none */
  readonly certificate?: Uint8Array;
  /** The SSH user name we log in to contacts with (a device: "dev-<person hex>"). @default "roj" */
  readonly username?: string;
  readonly name: string;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly contacts: ContactBook;
  /** A passive anchor keeps no member's address. */
  readonly passive: boolean;
  readonly dialTimeoutMs: number;
  /** The features our hello lists (they depend on what started). */
  features(): string[];
  /** The address to dial out from (the one we listen on), when it is not a wildcard. */
  localAddress(): string | undefined;
  /** A contact's online state or last-seen moved (the admin's contact list). */
  contactChanged(c: Contact): void;
}

export type ServeHook = (rpc: RpcSession, peer: Uint8Array) => void;
export type UpHook = (s: LiveSession) => void;
export type DownHook = (s: LiveSession, reason: string) => void;

export class SessionManager {
  readonly #d: SessionManagerDeps;
  readonly #peers: PeerSet;
  readonly #live = new WeakMap<RpcSession, LiveSession>();
  readonly #clients = new Set<SshClient>();
  readonly #serve: ServeHook[] = [];
  readonly #up: UpHook[] = [];
  readonly #each: UpHook[] = [];
  readonly #down: DownHook[] = [];
  /** How each contact's current address was learnt (hex → "direct", "via bob", …). */
  readonly learntVia = new Map<string, string>();
  /** The last dial failure per contact, told once per change. */
  readonly #dialErrors = new Map<string, string>();
  /** Errors of dials whose SSH did not come up (the rest failed in the roj session). */
  readonly #sshFailures = new WeakSet<object>();
  #closing = false;
  /** The person's agreement key (devagree1): ours for the hello; a contact's heard in theirs. */
  personAgree: PersonAgreeHooks | undefined;
  /** This node's instance id, new at each start: sent in every hello (see TwinSessions). */
  readonly #instance: string;
  /** Contacts' sessions from two nodes on one key (identity_guard/twin_sessions.ts). */
  readonly #twins: TwinRefusal;
  /** Contacts not to dial until then (ms): they hold a live session of our key from another node. */
  readonly #holdOff = new Map<string, number>();

  constructor(deps: SessionManagerDeps) {
    this.#d = deps;
    this.#peers = new PeerSet(deps.keyPair.publicKey);
    this.#twins = new TwinRefusal(deps.clock, deps.bus);
    const r = () => Math.floor(deps.clock.random() * 2 ** 32).toString(16).padStart(8, "0");
    this.#instance = r() + r() + r() + r();
  }

  /**
   * Dials to `peer` stay quiet until `untilMs`: it holds a live session of our
   * key from another node, and would refuse ours (see TwinSessions).
   */
  holdOff(peer: Uint8Array, untilMs: number): void {
    this.#holdOff.set(toHex(peer), untilMs);
  }

  /** Registers what every session with a contact serves, before its first frame. */
  onServe(hook: ServeHook): void {
    this.#serve.push(hook);
  }

  /**
   * Called for each person's primary session kept (PeerSet): the first of
   * theirs, one replacing it, or another of their devices' once it ended.
   */
  onUp(hook: UpHook): void {
    this.#up.push(hook);
  }

  /** Called for every session kept, each device's (chat sync), before the `onUp` hooks. */
  onEach(hook: UpHook): void {
    this.#each.push(hook);
  }

  /** Called when a person's last session ends (not when a better one replaced it). */
  onDown(hook: DownHook): void {
    this.#down.push(hook);
  }

  get closing(): boolean {
    return this.#closing;
  }

  get(peer: Uint8Array): LiveSession | undefined {
    const s = this.#peers.get(peer);
    return s && this.#live.get(s.rpc);
  }

  /** The primary session of each contact. */
  all(): LiveSession[] {
    return this.#peers.all().map((s) => this.#live.get(s.rpc)!);
  }

  /** Every session of `peer`: one per device of theirs that is up, the primary first. */
  of(peer: Uint8Array): LiveSession[] {
    return this.#peers.of(peer).map((s) => this.#live.get(s.rpc)!);
  }

  /** Every session, each device's. */
  every(): LiveSession[] {
    return this.#peers.every().map((s) => this.#live.get(s.rpc)!);
  }

  /** A protocol session on `pipe`; with `peer`, served by every service from its first frame. */
  rpc(pipe: Pipe, peer?: Uint8Array): RpcSession {
    const rpc = new RpcSession(pipe, {
      hello: {
        features: this.#d.features(),
        name: this.#d.name,
        sees: pipe.remote,
        ...(this.#d.agree ? { agree: base64.encode(this.#d.agree) } : {}),
        ...pagreeOf(this.personAgree?.mine()),
        ...(this.#d.certificate ? { cert: base64.encode(this.#d.certificate) } : {}),
        i: this.#instance,
      },
      clock: this.#d.clock,
      onInternalError: (m, err) =>
        this.#d.bus.say(`internal error serving ${m}: ${(err as Error)?.stack ?? err}`),
    });
    if (peer) this.serve(rpc, peer);
    return rpc;
  }

  /** Registers every service's handlers on `rpc` for `peer`; its requests wait for `attach`. */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    if (!this.#live.has(rpc)) rpc.hold();
    for (const hook of this.#serve) hook(rpc, peer);
  }

  /** Opens SSH to a peer; the connection is closed with the node. */
  async dial(plan: DialPlan): Promise<SshClient> {
    const local = plan.sock ? undefined : this.#d.localAddress();
    const client = await dialSsh({
      keyPair: this.#d.keyPair,
      signer: this.#d.signer,
      to: plan.to,
      expectedKey: plan.expect,
      expectedName: plan.expectName,
      username: plan.username ?? this.#d.username ?? "roj",
      timeoutMs: plan.timeoutMs ?? this.#d.dialTimeoutMs,
      clock: this.#d.clock,
      ...(local ? { localAddress: local } : {}),
      ...(plan.sock ? { sock: plan.sock } : {}),
      ...(plan.signal ? { signal: plan.signal } : {}),
    });
    this.#clients.add(client);
    client.onClose(() => this.#clients.delete(client));
    return client;
  }

  /**
   * The one path for sessions we open: dial, open the roj subsystem, wait for
   * the hello, run `ready` (an invite's redeem, a race's claim: it returns
   * the contact to attach, or throws), attach. On any failure the connection
   * is closed and the error thrown.
   * @returns the contact, and whether the session was kept (a duplicate may win)
   */
  async establish(
    plan: DialPlan,
    arrival: Arrival,
    ready?: (rpc: RpcSession, client: SshClient) => Promise<Contact> | Contact,
  ): Promise<{ kept: boolean; contact: Contact }> {
    const client = await this.dial(plan).catch((err) => {
      if (typeof err === "object" && err !== null) this.#sshFailures.add(err);
      throw err;
    });
    try {
      // A contact's device answers with its own key: served as the contact once `ready` named them.
      const rpc = this.rpc(await client.openRoj(), arrival.device ? undefined : client.remoteKey);
      if (arrival.device) rpc.hold();
      await rpc.ready;
      const contact = ready
        ? await ready(rpc, client)
        : this.#d.contacts.accepted(client.remoteKey);
      if (!contact) throw new RojError("refused", `${plan.expectName} is no longer a contact`);
      if (arrival.device) this.serve(rpc, contact.publicKey);
      this.attach(contact, rpc, "out", arrival, client);
      return { kept: this.#peers.at(contact.publicKey, arrival.device)?.rpc === rpc, contact };
    } catch (err) {
      client.close();
      throw err;
    }
  }

  /**
   * Dials one address of a contact; true when a session is up. With
   * `upgrade`, a session through a relay does not stop the dial. With `race`,
   * the session is kept only if it answered first (peers/happy_eyeballs). A
   * failure is told once per change of reason.
   */
  async dialAt(
    contact: Contact,
    addr: string,
    options: { upgrade?: boolean; path?: "direct" | "lan"; race?: DialRace } = {},
  ): Promise<boolean> {
    const { race } = options;
    // The contact's own key's session (a device of theirs has its own, node/device_sync).
    const current = this.#peers.at(contact.publicKey);
    if (this.#closing || (current && !(options.upgrade && current.via !== undefined))) return false;
    const held = this.#holdOff.get(toHex(contact.publicKey));
    if (held !== undefined && this.#d.clock.now() < held) return false;
    this.#d.bus.emit({
      type: "dialling",
      peer: contact.name,
      fingerprint: fingerprint(contact.publicKey),
      address: addr,
    });
    try {
      const { kept } = await this.establish(
        {
          to: parseEndpoint(addr),
          expect: contact.publicKey,
          expectName: contact.name,
          ...(race ? { signal: race.signal } : {}),
        },
        { remote: addr, path: options.path ?? "direct" },
        () => {
          // Another of their addresses answered first: that session stays.
          if (race && !race.claim()) throw new Error("another address answered first");
          return contact;
        },
      );
      return kept;
    } catch (err) {
      if (race?.signal.aborted) return false; // lost the race: nothing to report
      this.#dialFailed(contact, addr, err);
      return false;
    }
  }

  #dialFailed(contact: Contact, address: string, err: unknown): void {
    const k = toHex(contact.publicKey);
    const reason = (err as Error).message;
    const line = `cannot reach ${contact.name} at ${address}: ${reason}`;
    if (this.#dialErrors.get(k) === line) return;
    this.#dialErrors.set(k, line);
    this.#d.bus.say(line);
    this.#d.bus.emit({
      type: "dial-failed",
      peer: contact.name,
      fingerprint: fingerprint(contact.publicKey),
      address,
      code: err instanceof RojError ? err.code : "error",
      stage: typeof err === "object" && err !== null && this.#sshFailures.has(err)
        ? "ssh"
        : "session",
      reason,
    });
  }

  /**
   * Dials a typed address and keeps the session if a contact answers there.
   * @throws {RojError} unreachable, or protocol when the key there is no contact's.
   */
  async connectTo(address: string): Promise<Contact> {
    const to = parseEndpoint(address, 7022);
    const addr = formatEndpoint(to);
    const { contact } = await this.establish(
      {
        to,
        expect: (key) => this.#d.contacts.accepted(key) !== undefined,
        expectName: "any of your contacts",
      },
      { remote: addr },
      async (_rpc, client) => {
        const c = this.#d.contacts.accepted(client.remoteKey)!;
        const updated = await this.#d.contacts.update(c.publicKey, {
          addresses: mergeAddresses([addr], c.addresses),
        });
        this.learntVia.set(toHex(c.publicKey), "typed by hand");
        return updated;
      },
    );
    this.#d.bus.say(`reached ${contact.name} at ${addr}, typed by hand`);
    this.#d.bus.emit({
      type: "typed-address",
      peer: contact.name,
      fingerprint: fingerprint(contact.publicKey),
      address: addr,
    });
    return this.#d.contacts.get(contact.publicKey) ?? contact;
  }

  /**
   * A session the SSH server accepted: a contact's is served at once and
   * attached on its hello; an invite holder's goes to `invited`.
   */
  inbound(
    peer: InboundPeer,
    pipe: Pipe,
    how: {
      /** Whether a contact's TCP connection came to an address it announced on our LAN. */
      lan(key: Uint8Array, host: string): boolean;
      /** An invite holder's session (user name "invite-<nonce>"). */
      invited(rpc: RpcSession, peer: Uint8Array, nonce: string, remote: string): void;
      /** A new device being linked (user name "devlink", node/linking). @default closed */
      linking?(rpc: RpcSession, peer: Uint8Array, remote: string): void;
      /** A contact's device (user name "dev-<person hex>", node/linking). @default closed */
      device?(rpc: RpcSession, peer: InboundPeer, person: string, remote: string): void;
    },
  ): void {
    const remote = peer.via !== undefined ? `via ${peer.via}` : formatEndpoint(peer.remote);
    const contact = peer.username === "roj" ? this.#d.contacts.accepted(peer.publicKey) : undefined;
    const rpc = this.rpc(pipe, contact?.publicKey);
    if (contact) {
      const path = peer.transport === "quic"
        ? "punched"
        : how.lan(contact.publicKey, peer.remote.host)
        ? "lan"
        : "direct";
      // The connection exists for this session: when the session ends (lost,
      // or replaced by the peer's newer connection, e.g. after its NAT gave it
      // a new port) the connection goes too, and so do the relayed channels
      // spliced through it, which would otherwise lead nowhere for minutes.
      rpc.onClose(() => peer.close());
      rpc.ready.then(() =>
        this.attach(contact, rpc, "in", {
          remote,
          path,
          ...(peer.via !== undefined ? { via: peer.via } : {}),
        })
      ).catch(() => {});
      return;
    }
    if (peer.username === "devlink" && how.linking) {
      return how.linking(rpc, peer.publicKey, remote);
    }
    const person = /^dev-([0-9a-f]{64})$/.exec(peer.username)?.[1];
    if (person && how.device) {
      // Nothing is served before the certificate in its hello checked out.
      rpc.hold();
      return how.device(rpc, peer, person, remote);
    }
    const nonce = /^invite-([0-9a-f]{32})$/.exec(peer.username)?.[1];
    if (!nonce) return rpc.close("not accepted");
    how.invited(rpc, peer.publicKey, nonce, remote);
  }

  /** Makes a session live: kept in the PeerSet (or closed as a duplicate), then every `onUp`. */
  attach(
    contact: Contact,
    rpc: RpcSession,
    direction: "in" | "out",
    arrival: Arrival,
    client?: SshClient,
  ): void {
    // A dial or handshake that completes while the node is stopping gets no session.
    if (this.#closing) {
      rpc.close("node stopping");
      client?.close();
      return;
    }
    const path = arrival.path ?? "direct";
    // A hello's "anchor" is no evidence: any contact could claim it and so
    // stop direct sync, draw group mail and be named first as a relay.
    const anchor = contact.anchor;
    const session: LiveSession = {
      peer: contact.publicKey,
      ...(arrival.device ? { device: arrival.device } : {}),
      direction,
      rpc,
      remote: arrival.remote,
      since: this.#d.clock.now(),
      path,
      ...(arrival.via !== undefined ? { via: arrival.via } : {}),
      contact,
      anchor,
      ...(client ? { client } : {}),
    };
    // A contact's device speaks with its own key (node/linking): beside the person key's node, or
    // another device, it is another key, not the same identity elsewhere. Only one key's own
    // instances (its slot's) are compared.
    const live = this.#peers.at(contact.publicKey, arrival.device)?.rpc;
    if (this.#twins.refused(contact, arrival.device ?? contact.publicKey, rpc, live, client)) {
      return;
    }
    if (!this.#peers.add(session)) {
      client?.close();
      return;
    }
    this.#live.set(rpc, session);
    const k = toHex(contact.publicKey);
    this.#dialErrors.delete(k);
    if (direction === "in" && !this.learntVia.has(k)) {
      this.learntVia.set(k, "direct (they dialled)");
    }
    this.#d.bus.say(
      `connected to ${contact.name}${anchor ? " (anchor)" : ""} (${
        path === "punched" ? "punched (udp) " : path === "lan" ? "lan " : ""
      }${arrival.remote}, ${direction === "out" ? "we dialled" : "they dialled"})`,
    );
    this.#d.bus.emit({
      type: "session",
      state: "up",
      peer: contact.name,
      fingerprint: fingerprint(contact.publicKey),
      path: sessionPath(session),
      direction,
      remote: arrival.remote,
      ...(arrival.via !== undefined ? { via: arrival.via } : {}),
      anchor,
      ...(arrival.device ? { device: fingerprint(arrival.device) } : {}),
    });
    const now = this.#d.clock.now();
    // The X25519 key it publishes (its key is in ssh-agent), trusted as the SSH
    // session under the hello is its key's. In memory before the hooks below seal to it.
    // A device speaks for its person's key, but `agree` is the person key node's own (an agent's).
    const agree = arrival.device ? contact.agree : publishedAgreementKey(rpc.peerHello?.agree);
    const pagree = publishedAgreementKey(rpc.peerHello?.pagree);
    this.personAgree?.heard(contact.publicKey, pagree, arrival.device !== undefined);
    const agreeChanged = agree === undefined
      ? contact.agree !== undefined
      : contact.agree === undefined || !bytesEqual(agree, contact.agree);
    this.#d.contacts.update(contact.publicKey, {
      lastSeen: now,
      ...(agreeChanged ? { agree } : {}),
      // An anchor keeps no member's address; a person remembers where a contact answered.
      // A punched UDP endpoint or a relay is no address to dial over TCP; a device's is its own.
      ...(direction === "out" && !this.#d.passive && path === "direct" &&
          arrival.via === undefined &&
          !arrival.device
        ? { addresses: mergeAddresses([arrival.remote], contact.addresses) }
        : {}),
    }).then((c) => this.#d.contactChanged(c)).catch(() => {});
    rpc.onClose((reason) => {
      client?.close();
      const primary = this.#peers.get(contact.publicKey) === session;
      if (!this.#peers.remove(session)) return;
      this.#d.bus.say(`disconnected from ${contact.name}${reason ? `: ${reason}` : ""}`);
      this.#d.bus.emit({
        type: "session",
        state: "down",
        peer: contact.name,
        fingerprint: fingerprint(contact.publicKey),
        reason: reason ?? "closed",
        ...(arrival.device ? { device: fingerprint(arrival.device) } : {}),
      });
      const latest = this.#d.contacts.get(contact.publicKey);
      if (latest) {
        this.#d.contacts.update(contact.publicKey, { lastSeen: this.#d.clock.now() })
          .catch(() => {});
        this.#d.contactChanged(latest);
      }
      if (this.#closing) return;
      // Another device of theirs is up: it is their primary now, as if it had replaced this one.
      const next = this.get(contact.publicKey);
      if (next && primary) { for (const hook of this.#up) hook(next); }
      if (!next) { for (const hook of this.#down) hook(session, reason ?? "closed"); }
    });
    for (const hook of this.#each) hook(session);
    if (this.#peers.get(contact.publicKey) === session) {
      for (const hook of this.#up) {
        hook(session);
      }
    }
    // Registered and set up: now the peer's requests are served, the held ones first.
    rpc.admit();
  }

  /** Ends every session and connection. */
  close(): void {
    this.#closing = true;
    for (const s of this.#peers.all()) s.rpc.close("node stopping");
    for (const c of this.#clients) c.close();
  }
}

/** The person's agreement keys (feature devagree1, node/device_sync/person_agreement.ts). */
export interface PersonAgreeHooks {
  /** Ours, for the hello, if held. */
  mine(): Uint8Array | undefined;
  /** A session of `person` is kept, its hello's `pagree` checked (or none). */
  heard(person: Uint8Array, key: Uint8Array | undefined, fromDevice: boolean): void;
  /** Where the keys stand as a revocation arrives; then a device of `person` was revoked. */
  mark(): number;
  revoked(person: Uint8Array, mark: number): Promise<void>;
  /** A contact's, as heard. */
  of(person: Uint8Array): Uint8Array | undefined;
  /** On a device: the person's agreement key pair, newest (contacts' records are sealed to it). */
  devicePair(): KeyPair | undefined;
  /** Whether this node is a device of its person. */
  readonly onDevice: boolean;
}

function pagreeOf(key: Uint8Array | undefined): { pagree?: string } {
  return key ? { pagree: base64.encode(key) } : {};
}
