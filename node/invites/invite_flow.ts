/**
 * Invites, both ways: issuing one (signed, expiring, limited uses), adding a
 * contact from one (dial its maker as the holder of that invite, redeem it,
 * keep the session), and serving a redeem on our side. Also who may log in
 * over SSH at all: contacts, and the holder of a valid invite.
 *
 * A person's device (it holds its own key and a certificate, not the person
 * key) issues an invite that names the person (contacts/person_invite.ts):
 * whoever accepts it adds the person, as an invite from the person key's
 * node would, and so chats with every device of hers. It lists this device's
 * addresses and its siblings' (the person key's node's, and other devices'
 * with their certificates), so it is redeemed at whichever is up; the
 * siblings know its nonce (device_sync/invite_sync.ts). Accepting one dials a
 * device expecting its own host key, and keeps the session as the person's
 * once the certificate in its hello checked out (`vouch`).
 */
import type { InviteView } from "../api/mod.ts";
import type { Clock } from "../clock/mod.ts";
import {
  type Contact,
  type ContactBook,
  createInviteText,
  createPersonInviteText,
  type Invite,
  type InviteAddress,
  type InviteRegistry,
  MAX_INVITE_DEVICES,
  MAX_INVITE_TEXT,
  mergeAddresses,
  parseInvite,
} from "../contacts/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { type Certificate, fingerprint, type Signer } from "../identity/mod.ts";
import { isCertifiedSigner } from "../linking/mod.ts";
import { toHex } from "../log/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { ANCHOR_FEATURE, peerHas, type RpcSession } from "../protocol/mod.ts";
import type { SessionManager } from "../sessions/mod.ts";
import { type Endpoint, parseEndpoint } from "../transport/mod.ts";

export interface InviteFlowDeps {
  readonly me: Uint8Array;
  readonly name: string;
  readonly signer: Signer;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly contacts: ContactBook;
  readonly invites: InviteRegistry;
  readonly sessions: SessionManager;
  /** A passive anchor keeps no member's address. */
  readonly passive: boolean;
  /** The addresses this node publishes now (empty when it does not listen). */
  addresses(): string[];
  /** The addresses to put in an invite (the advertised ones, else the published ones). */
  inviteAddresses(): string[];
  /** Chat names a new contact may not take. */
  reservedNames(): string[];
  /** A contact was added: hand our sealed copies around again. */
  added(c: Contact): void;
  /** Whether the node listens (an invite's maker is dialled from there). */
  running(): boolean;
  /** Our person's key (`me` on the person key's node; on a device, the person's). @default me */
  readonly person?: Uint8Array;
  /**
   * On a device: the person's other devices and where each listens, for its
   * invites (the person key's node without a certificate). @default none
   */
  siblings?(): Promise<Sibling[]>;
  /**
   * Whether `key` is a device of `person` now, by its hello's certificate
   * (linking/device_sessions.ts `vouch`): an invite's device answered.
   * @default none: a device's invite is accepted only at the person key's addresses
   */
  vouch?(
    person: Uint8Array,
    key: Uint8Array,
    cert: string | undefined,
  ): Promise<Certificate | string>;
}

/** Another device of our person, as a device's invite lists it. */
export interface Sibling {
  readonly key: Uint8Array;
  /** Its certificate; none for the person key's node. */
  readonly certificate?: Certificate;
  readonly addresses: readonly string[];
}

/** Addresses of this device first in its invite; the siblings' fill the rest (8 in all). */
const OWN_INVITE_ADDRESSES = 4;

const INVITE_USER = /^invite-([0-9a-f]{32})$/;

export class InviteFlow {
  readonly #d: InviteFlowDeps;

  constructor(deps: InviteFlowDeps) {
    this.#d = deps;
  }

  /** Decides, once the key's signature checked out, whether it may log in with this user name. */
  authorize(username: string, publicKey: Uint8Array): boolean {
    if (username === "roj") return this.#d.contacts.accepted(publicKey) !== undefined;
    const m = INVITE_USER.exec(username);
    if (m) {
      return this.#d.invites.isValid(m[1]!, this.#d.clock.now()) &&
        !this.#d.contacts.get(publicKey)?.blocked;
    }
    return false;
  }

  /**
   * Issues an invite valid for `expiresIn` seconds and `uses` redeems.
   * @throws {RojError} no_node when the node does not listen
   */
  async issue(expiresIn = 86_400, uses = 1): Promise<InviteView> {
    const addresses = this.#d.inviteAddresses();
    if (addresses.length === 0) {
      throw new RojError("no_node", "the node is not listening; start it with `roj run`");
    }
    const nonce = crypto.getRandomValues(new Uint8Array(16));
    const expires = this.#d.clock.now() + expiresIn * 1000;
    const signer = this.#d.signer;
    // A device's invite is its own: withdrawn on every device once it is revoked (invite_sync.ts).
    const by = isCertifiedSigner(signer) ? toHex(signer.publicKey) : undefined;
    await this.#d.invites.issue(toHex(nonce), expires, uses, by);
    let text: string;
    if (isCertifiedSigner(signer)) {
      const parts = await this.#personParts(signer.certificate, addresses);
      const make = () =>
        createPersonInviteText(signer, { ...parts, name: this.#d.name, expires, nonce });
      text = await make();
      // Within what `roj add` takes: the last sibling device (and its addresses) goes first.
      while (text.length > MAX_INVITE_TEXT && parts.devices.length > 1) {
        const gone = parts.devices.pop()!.publicKey;
        parts.addresses = parts.addresses.filter((a) => !bytesEqual(a.host, gone));
        text = await make();
      }
    } else text = await createInviteText(signer, { name: this.#d.name, addresses, expires, nonce });
    this.#d.bus.say(
      `issued an invite valid until ${new Date(expires).toISOString()} for ${uses} use${
        uses === 1 ? "" : "s"
      }`,
    );
    return { text, expires, addresses };
  }

  /**
   * Withdraws an invite our person issued (here or on another device of
   * theirs, devinvites1): no use is left, and the siblings hear of it.
   * @throws {RojError} bad_input when it is not one of our person's invites
   */
  async withdraw(text: string): Promise<{ withdrawn: boolean }> {
    const now = this.#d.clock.now();
    const invite = await parseInvite(text, now);
    if (!bytesEqual(invite.publicKey, this.#d.person ?? this.#d.me)) {
      throw new RojError("bad_input", "this is not one of your invites");
    }
    const withdrawn = await this.#d.invites.withdraw(toHex(invite.nonce), now);
    if (withdrawn) {
      this.#d.bus.say(`withdrew an invite valid until ${new Date(invite.expires).toISOString()}`);
    }
    return { withdrawn };
  }

  /** A device's invite: the person, our certificate and addresses first, then the siblings'. */
  async #personParts(
    own: Certificate,
    addresses: string[],
  ): Promise<{ person: Uint8Array; devices: Certificate[]; addresses: InviteAddress[] }> {
    const person = this.#d.person ?? this.#d.me;
    const devices = [own];
    const listed: InviteAddress[] = addresses.slice(0, OWN_INVITE_ADDRESSES)
      .map((address) => ({ address, host: own.publicKey }));
    for (const s of await this.#d.siblings?.() ?? []) {
      const isPerson = bytesEqual(s.key, person);
      if (!isPerson && (!s.certificate || devices.length >= MAX_INVITE_DEVICES)) continue;
      if (!isPerson) devices.push(s.certificate!);
      for (const address of s.addresses) listed.push({ address, host: s.key });
    }
    return { person, devices, addresses: listed.slice(0, 8) };
  }

  /**
   * Dials an invite's maker at its addresses, one at a time, and redeems it:
   * both are contacts once it answers.
   * @throws {RojError} bad_input (own invite, no address), refused (used, expired), unreachable
   */
  async add(text: string, name: string | undefined): Promise<Contact> {
    const invite = await parseInvite(text, this.#d.clock.now());
    if (
      bytesEqual(invite.publicKey, this.#d.me) ||
      bytesEqual(invite.publicKey, this.#d.person ?? this.#d.me)
    ) {
      throw new RojError("bad_input", "this is your own invite");
    }
    if (!this.#d.running()) {
      throw new RojError("no_node", "the node is not running; start it with `roj run`");
    }
    const petname = name ?? invite.name;
    let lastError: RojError | undefined;
    for (const [i, addr] of invite.addresses.entries()) {
      let to: Endpoint;
      try {
        to = parseEndpoint(addr);
      } catch {
        continue;
      }
      // A device's invite: at a device's address, that device's key answers, certified.
      const host = invite.hosts?.[i] ?? invite.publicKey;
      const device = bytesEqual(host, invite.publicKey) ? undefined : host;
      if (device && !this.#d.vouch) continue;
      try {
        const { contact } = await this.#d.sessions.establish(
          {
            to,
            expect: host,
            expectName: device ? `${invite.name}'s device ${fingerprint(device)}` : invite.name,
            username: `invite-${toHex(invite.nonce)}`,
          },
          { remote: addr, ...(device ? { device } : {}) },
          async (rpc) => {
            if (device) {
              const v = await this.#d.vouch!(invite.publicKey, device, rpc.peerHello?.cert);
              if (typeof v === "string") {
                throw new RojError("unreachable", `${invite.name}'s device: ${v}`);
              }
            }
            return this.#redeem(rpc, invite, petname, addr, device);
          },
        );
        this.#d.added(contact);
        return contact;
      } catch (err) {
        if (!(err instanceof RojError)) throw err;
        lastError = err.code === "refused"
          ? new RojError(
            "refused",
            `${invite.name} did not accept this invite (already used, expired or withdrawn)`,
            { cause: err },
          )
          : err;
      }
    }
    throw lastError ?? new RojError("bad_input", "the invite holds no address to reach its maker");
  }

  async #redeem(
    rpc: RpcSession,
    invite: Invite,
    petname: string,
    addr: string,
    device: Uint8Array | undefined,
  ): Promise<Contact> {
    const key = invite.publicKey;
    const res = await rpc.request("invite.redeem", {
      nonce: toHex(invite.nonce),
      name: this.#d.name,
      addresses: this.#d.addresses(),
    });
    // The person's own addresses (a device's are dialled as that device's, device_sync/device_dialler.ts).
    const personal = invite.addresses.filter((_, i) =>
      bytesEqual(invite.hosts?.[i] ?? invite.publicKey, key)
    );
    const added = await this.#d.contacts.add(
      key,
      petname,
      device ? personal : mergeAddresses([addr], personal),
      this.#d.clock.now(),
      this.#d.reservedNames(),
    );
    // The one moment a contact becomes an anchor: its maker says so on the
    // session of the invite the person accepted (host key = the invite's key).
    const contact = peerHas(rpc.peerHello, ANCHOR_FEATURE) && !added.anchor
      ? await this.#d.contacts.update(key, { anchor: true })
      : added;
    this.#d.bus.say(
      `added ${contact.name} (${res.name}, ${fingerprint(contact.publicKey)}) at ${addr}`,
    );
    return contact;
  }

  /** An invite holder's session: it may ask invite.redeem once, for this invite only. */
  serveRedeem(rpc: RpcSession, peer: Uint8Array, nonce: string, remote: string): void {
    rpc.handle("invite.redeem", async (params) => {
      if (params.nonce !== nonce || !await this.#d.invites.consume(nonce, this.#d.clock.now())) {
        throw new RojError("refused", "this invite is no longer valid");
      }
      const addresses = params.addresses.filter((a) => {
        try {
          parseEndpoint(a);
          return true;
        } catch {
          return false;
        }
      });
      const added = await this.#d.contacts.add(
        peer,
        params.name,
        this.#d.passive ? [] : addresses,
        this.#d.clock.now(),
        this.#d.reservedNames(),
      );
      this.#d.bus.say(
        `${added.name} (${fingerprint(added.publicKey)}) accepted an invite from ${remote}`,
      );
      // Serve before answering, so their first request finds its handler.
      this.#d.sessions.serve(rpc, added.publicKey);
      queueMicrotask(() => {
        this.#d.sessions.attach(added, rpc, "in", { remote });
        this.#d.added(added);
      });
      return { name: this.#d.name };
    });
  }
}
