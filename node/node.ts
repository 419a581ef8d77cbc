/**
 * A Roj node: one identity, its store, its contacts and chats, its SSH server
 * and its sessions with peers. This file only wires the services together
 * (each owns one job, see the folders' mod.ts); the local API (the CLI's
 * control socket and the web admin) is served by the handlers table. Holds no
 * module-level state, so several nodes can live in one process.
 */
import { delay, systemClock, type TimerId } from "./clock/mod.ts";
import type { Method, NodeApi, NodeEvent, Params, Results } from "./api/mod.ts";
import { agreeKeys, ContactBook, InviteRegistry, MemberIds } from "./contacts/mod.ts";
import { GroupBook, HandedKeys } from "./groups/mod.ts";
import { type CallMethod, dispatch } from "./handlers/mod.ts";
import { openProfile, type Profile } from "./home/mod.ts";
import {
  type AgentState,
  createSigner,
  createVerifierPool,
  fingerprint,
  publicKeyLine,
  type Signer,
  type VerifierPool,
} from "./identity/mod.ts";
import { ChatLog, type Entry } from "./log/mod.ts";
import { certifiedSigner, deviceIdentity } from "./linking/mod.ts";
import { type NodeOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import type { PunchResult } from "./punch/mod.ts";
import type { Relay } from "./relay/mod.ts";
import type { Endpoint } from "./transport/mod.ts";
import type { ChatRef } from "./views/mod.ts";
import { type Books, type Services, wire } from "./wiring.ts";
import { wireDeviceGroups } from "./wiring_devgroups.ts";
import { agreeTargets, sealTargets, wireAgreement } from "./wiring_agree.ts";

export const VERSION = "0.1.0";
export type { NodeOptions } from "./options.ts";
export type { ChatRef } from "./views/mod.ts";

export class RojNode implements NodeApi {
  readonly profile: Profile;
  readonly signer: Signer;
  readonly log: ChatLog;
  readonly contacts: ContactBook;
  readonly invites: InviteRegistry;
  readonly groups: GroupBook;
  readonly #o: ResolvedOptions;
  readonly #verifier: VerifierPool;
  readonly #s: Services;
  #closing = false;
  #agentTimer: TimerId | undefined;
  /** Started while ssh-agent could not sign: nothing is served until it can (#agentBack). */
  #waiting = false;
  #resuming: Promise<void> | undefined;

  private constructor(
    o: ResolvedOptions,
    profile: Profile,
    books: Books,
    verifier: VerifierPool,
    s: Services,
  ) {
    this.#o = o;
    this.profile = profile;
    this.signer = books.signer;
    this.log = books.log;
    this.contacts = books.contacts;
    this.invites = books.invites;
    this.groups = books.groups;
    this.#verifier = verifier;
    this.#s = s;
  }

  /** Opens the node in an initialised data folder. @throws {RojError} */
  static async open(options: NodeOptions): Promise<RojNode> {
    const o = resolveOptions(options);
    // The bus comes later, with the services; until then a change is only kept in the state.
    let agentChanged = (_: AgentState) => {};
    const profile = await openProfile(
      o.dataDir,
      o.ask,
      o.agentSocket === undefined
        ? undefined
        // Opens while the agent cannot sign: the node then reads only until it can (start()).
        : { socket: o.agentSocket, onChange: (state) => agentChanged(state), absentOk: true },
    );
    const verifier = createVerifierPool();
    try {
      const own = profile.agent ?? await createSigner(profile.keyPair);
      // A device (roj init --join) signs its entries with its certificate in them.
      const device = profile.agent ? undefined : await deviceIdentity(profile.store.kv);
      const signer = device ? certifiedSigner(own, device.certificate) : own;
      const log = new ChatLog(profile.store, { verifier, clock: o.clock });
      const ids = o.passive ? await MemberIds.open(profile.store) : undefined;
      const contacts = await ContactBook.open(profile.store, ids);
      const invites = await InviteRegistry.open(profile.store, o.clock.now(), o.clock);
      const agreeKeyOf = agreeKeys(profile.keyPair, contacts);
      // On a device the person is the groups' member; their keys come from the person key's node.
      const handed = device &&
        { person: device.person, handed: await HandedKeys.open(profile.store) };
      // Group keys go to each person's agreement key (devagree1), which a device of theirs holds.
      const targets = await agreeTargets(o, profile, device?.person ?? profile.keyPair.publicKey);
      const sealTo = sealTargets(targets, agreeKeyOf);
      const groups = await GroupBook.open(profile.store, log, profile.keyPair, sealTo, handed);
      const books = { signer, agreeKeyOf, log, contacts, invites, groups };
      const s = await wire(o, profile, books, verifier, VERSION);
      const rotated = await wireAgreement(o, profile, signer, !!device, targets, books, s);
      wireDeviceGroups(o, profile.store.kv, books, s, rotated);
      agentChanged = (state) => {
        s.bus.say(
          state.available
            ? "ssh-agent holds the key again: signing again"
            : `ssh-agent cannot sign (${state.reason}): nothing can be sent until it is back; reading goes on`,
        );
        s.bus.emit({ type: "agent", socket: o.agentSocket!, ...state });
        if (state.available) node.#agentBack();
      };
      const node = new RojNode(o, profile, books, verifier, s);
      return node;
    } catch (err) {
      profile.agent?.close();
      verifier.close();
      profile.store.close();
      throw err;
    }
  }

  get publicKey(): Uint8Array {
    return this.profile.keyPair.publicKey;
  }

  get name(): string {
    return this.profile.name;
  }

  /** The key as an OpenSSH public key line, with the name as comment. */
  get keyLine(): string {
    return publicKeyLine(this.publicKey, this.name);
  }

  get fingerprint(): string {
    return fingerprint(this.publicKey);
  }

  /** Relayed sessions and reachability (node/relay): counters and a test tap. */
  get relay(): Relay {
    return this.#s.relay;
  }

  /** The SSH server's address once started. */
  get address(): Endpoint | null {
    return this.#s.network.listening ?? null;
  }

  subscribe(listener: (event: NodeEvent) => void): () => void {
    return this.#s.bus.subscribe(listener);
  }

  /** Serves one API call; params must have passed api/parseCall. */
  call<M extends Exclude<Method, "follow">>(method: M, params: Params<M>): Promise<Results[M]> {
    return dispatch(this.#s.handlers, method as M & CallMethod, params);
  }

  /** Finds a chat by the name a person types. @throws {RojError} not_found */
  chat(name: string): ChatRef {
    return this.#s.directory.chat(name);
  }

  /** Adds a note to self. Resolves once it is committed. */
  note(text: string): Promise<Entry> {
    return this.#s.chats.note(text);
  }

  /** A chat's entries in display order; the newest `last` with `last`. */
  read(name: string, options: { last?: number } = {}): Promise<Entry[]> {
    return this.#s.chats.entries(name, options);
  }

  /**
   * Starts the SSH server (and QUIC, port mapping, LAN announcements, as
   * configured at open) and dials every contact.
   * @throws {RojError} bad_input when the address cannot be listened on.
   */
  async start(): Promise<void> {
    this.#watchAgent();
    const agent = this.profile.agent;
    if (agent && this.profile.agentPending) {
      // The key agreement comes from the agent's signature, and every SSH key exchange and
      // login needs one: without it the node serves the local API only (reading).
      const ready = await this.profile.agentPending().then(() => true, () => false);
      if (!ready) {
        this.#waiting = true;
        this.#s.bus.say(
          `ssh-agent cannot sign (${agent.state.reason}): reading only; nothing is sent, dialled or accepted until it can`,
        );
        this.#s.bus.emit({ type: "agent", socket: agent.socket, ...agent.state });
        return;
      }
    }
    await this.#serve();
  }

  /** The agent can sign again: if the node started without it, it starts serving now. */
  #agentBack(): void {
    if (!this.#waiting || this.#resuming || this.#closing) return;
    this.#resuming = (async () => {
      try {
        await this.profile.agentPending?.();
        this.#waiting = false;
        await this.#serve();
      } catch (err) {
        this.#s.bus.say(`ssh-agent is back, but the node did not start: ${(err as Error).message}`);
      } finally {
        this.#resuming = undefined;
      }
    })();
  }

  async #serve(): Promise<void> {
    await this.#s.network.start();
    this.#s.anchorMailbox?.startSweeping();
    this.#s.intros?.start();
    this.#s.carryMailbox?.startSweeping();
    if (!this.#o.passive) this.#s.search.start();
    if (!this.#o.passive) this.#s.linking.startRenewals();
    if (this.#o.passive) {
      this.#s.bus.say(
        `passive anchor: ${this.contacts.acceptedCount} members, ${this.#s.discovery.sealed.size} sealed records held`,
      );
      return;
    }
    this.#s.discovery.trigger("start").catch(() => {});
    this.#s.devsync.start();
    this.#s.addresses.watch(this.#o.interfacePollMs);
  }

  /**
   * Tries a punched UDP path to contact `peer` now. Never throws: a failure
   * says why, so the relay path can take over.
   */
  punch(peer: Uint8Array): Promise<PunchResult> {
    return this.#s.network.punch(peer);
  }

  /** Resolves when no exchange with an anchor's group mailbox is under way (tests, benchmarks). */
  mailboxIdle(): Promise<void> {
    return this.#s.mailbox.idle();
  }

  /** Resolves when no exchange of 1:1 mail with an anchor is under way (tests). */
  directMailIdle(): Promise<void> {
    return this.#s.directMail.idle();
  }

  /** Resolves when no exchange of mail for the person's other devices is under way (tests). */
  ownMailIdle(): Promise<void> {
    return this.#s.ownMail.idle();
  }

  /** Stops serving, closes every session, and closes the store. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.#resuming;
    const s = this.#s;
    this.#o.clock.clearInterval(this.#agentTimer);
    s.discovery.close();
    s.devsync.close();
    s.anchorMailbox?.close();
    s.carryMailbox?.close();
    s.mailbox.close();
    s.directMail.close();
    s.ownMail.close();
    s.groupService.close();
    s.files.close();
    s.groupFiles.close();
    s.addresses.close();
    s.relay.close();
    s.intros?.close();
    s.search.close();
    s.linking.close();
    await s.network.close(() => s.sessions.close());
    // No session is left to push to: this run's overlap markers may go (chats/commit_overlap.ts).
    await s.chats.close().catch(() => {});
    // Let pending commits settle before closing the store: real time, whatever the node's clock.
    await delay(systemClock, 10);
    await s.marks.close();
    await s.anchored.close();
    this.#verifier.close();
    this.profile.agent?.close();
    this.profile.store.close();
  }

  /** With the key in ssh-agent: looks for it now and then, so a gone or returned agent is told without waiting for a signature. */
  #watchAgent(): void {
    const agent = this.profile.agent;
    if (!agent || this.#agentTimer !== undefined) return;
    let checking = false;
    this.#agentTimer = this.#o.clock.setInterval(() => {
      if (checking || this.#closing) return;
      checking = true;
      agent.check().finally(() => checking = false);
    }, this.#o.agentCheckMs);
    this.#o.clock.unref(this.#agentTimer);
  }
}
