/**
 * The invites a person issued, in step between the person's own devices
 * (issue 13 item 4, issued invites), feature devinvites1, over the sibling
 * session (sibling_sync.ts: the other side is already checked to be the
 * person key or a device the person certified).
 *
 * An invite issued on the phone is redeemed on the laptop too (the invite
 * names the person and lists the addresses of the person's devices,
 * invites/invite_flow.ts), so each device must know it: every sibling that
 * lists devinvites1 gets every invite record held here at session up (used
 * up and withdrawn ones too, till the store drops them a day after their end), and
 * each change (issued, used, withdrawn) while it is up, in `devsync.invites`
 * requests of at most MAX_INVITE_RECORDS. A record merges as the fewer uses
 * left and the earlier end (contacts/invite_registry.ts `merge`), so a merge
 * that changes nothing is not passed on, and records never loop. Two devices
 * that never meet may each let one more use through than allowed; once they
 * meet, neither lets any further one.
 *
 * A record says which device issued the invite (`by`, to siblings that list
 * devinvites2). Once the person revokes a device, the invites it issued are
 * refused here at once (InviteRegistry.refuseRevoked) and withdrawn
 * (`sweep`: at start, when a revocation arrives, and after records merge),
 * and the withdrawals travel on like any use, so every device that knows of
 * the invite refuses it. Own mail (mailbox/own_mail_records.ts) files the
 * records (`wire`) for a sibling that is not connected, and hands us theirs
 * through `take`.
 */
import type { Clock } from "../clock/mod.ts";
import type { InviteRegistry, IssuedInviteRecord } from "../contacts/mod.ts";
import {
  DEVSYNC_INVITES_BY_FEATURE,
  type ParamsOf,
  peerHas,
  type RpcSession,
} from "../protocol/mod.ts";
import { hex } from "@scure/base";
import { toHex } from "../wire/mod.ts";

/** Invite records per devsync.invites request (the schema's cap, methods.ts). */
export const MAX_INVITE_RECORDS = 64;
/** Uses an invite record carries at most (the schema's cap; `roj invite --uses` allows 100). */
const MAX_USES = 1000;

/** What invites/invite_flow.ts issues: 16 random bytes in hex. */
const NONCE = /^[0-9a-f]{32}$/;

type Wire = ParamsOf<"devsync.invites">["invites"][number];

export interface InviteSyncDeps {
  readonly invites: InviteRegistry;
  readonly clock: Clock;
  /** Whether the person's device `key` is revoked (own_devices.ts). */
  revoked(key: Uint8Array): boolean;
  /** Told of each change here (own mail files it for siblings not connected). */
  readonly changed?: () => void;
}

export class InviteSync {
  readonly #d: InviteSyncDeps;
  /** Siblings with a session up that list devinvites1, by key hex. */
  readonly #siblings = new Map<string, RpcSession>();
  #unsubscribe: (() => void) | undefined;

  constructor(deps: InviteSyncDeps) {
    this.#d = deps;
  }

  /** Starts handing each change here to the siblings up. */
  start(): void {
    this.#d.invites.refuseRevoked((by) => this.#d.revoked(hex.decode(by)));
    this.sweep();
    this.#unsubscribe = this.#d.invites.onChange((r) => {
      for (const rpc of this.#siblings.values()) this.#send(rpc, [r]).catch(() => {});
      this.#d.changed?.();
    });
  }

  /** Withdraws what revoked devices issued (a revocation came, or records that name one). */
  sweep(): void {
    this.#d.invites.withdrawRevoked(this.#d.clock.now()).catch(() => {});
  }

  close(): void {
    this.#unsubscribe?.();
    this.#siblings.clear();
  }

  /** A sibling's session is up and it lists devinvites1: it gets every invite record held here. */
  attach(key: Uint8Array, rpc: RpcSession): void {
    const k = toHex(key);
    this.#siblings.set(k, rpc);
    rpc.onClose(() => {
      if (this.#siblings.get(k) === rpc) this.#siblings.delete(k);
    });
    this.#d.invites.records().then((all) => this.#send(rpc, all)).catch(() => {});
  }

  /** A sibling's `devsync.invites`: each record merged (and, when it changed ours, passed on). */
  async take(records: readonly Wire[]): Promise<Record<string, never>> {
    const now = this.#d.clock.now();
    for (const r of records) {
      await this.#d.invites.merge({
        nonce: r.nonce,
        expires: r.expires,
        usesLeft: r.uses,
        ...(r.by !== undefined ? { by: r.by } : {}),
      }, now);
    }
    this.sweep();
    return {};
  }

  /** Every invite record held here, as devsync.invites carries them with `by` (own mail). */
  async wire(): Promise<Wire[]> {
    return toWire(await this.#d.invites.records(), true);
  }

  async #send(rpc: RpcSession, records: readonly IssuedInviteRecord[]): Promise<void> {
    const withBy = peerHas(rpc.peerHello, DEVSYNC_INVITES_BY_FEATURE);
    for (let i = 0; i < records.length && !rpc.closed; i += MAX_INVITE_RECORDS) {
      const invites = toWire(records.slice(i, i + MAX_INVITE_RECORDS), withBy);
      if (invites.length > 0) await rpc.request("devsync.invites", { invites });
    }
  }
}

/** Records in the method's form: well-formed nonces only, uses within its bound. */
function toWire(records: readonly IssuedInviteRecord[], withBy: boolean): Wire[] {
  return records.filter((r) => NONCE.test(r.nonce)).map((r) => ({
    nonce: r.nonce,
    expires: r.expires,
    uses: Math.max(0, Math.min(MAX_USES, r.usesLeft)),
    ...(withBy && r.by !== undefined ? { by: r.by } : {}),
  }));
}
