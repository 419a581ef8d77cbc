/**
 * The timer that renews device certificates: it runs the pure decision
 * (devices/renewal.ts planRenewals) as the node starts and again when the
 * next certificate falls due (at most RENEWAL_CHECK_MS apart), and hands
 * each due one to `renew`. A renewal that fails (the person key not at
 * hand, the person key's node not reachable) is tried again at the next
 * check; `blocked` says why until one succeeds.
 */
import type { Clock, TimerId } from "../clock/mod.ts";
import {
  checkDeviceCertificate,
  isRenewalOf,
  planRenewals,
  RENEWAL_CHECK_MS,
  type RenewalCandidate,
} from "../devices/mod.ts";
import { RojError } from "../errors.ts";
import { type Certificate, type KeyPair, parseCertificate } from "../identity/mod.ts";
import { decodeB64 } from "../protocol/mod.ts";
import { dialLinking, LINKED_BY, type LinkingSession } from "./link_dial.ts";

export interface RenewalTimerDeps {
  readonly clock: Clock;
  /** The certificates to look at now. */
  candidates(): readonly RenewalCandidate[];
  /** Renews one due certificate. @throws when it cannot now */
  renew(cert: Certificate): Promise<unknown>;
  /** A due renewal failed; `why` is the error's message. */
  onBlocked?(cert: Certificate, why: string): void;
}

export class RenewalTimer {
  readonly #d: RenewalTimerDeps;
  #timer: TimerId | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  #blocked: string | null = null;

  constructor(d: RenewalTimerDeps) {
    this.#d = d;
  }

  /** Why the last due renewal failed, or null. */
  get blocked(): string | null {
    return this.#blocked;
  }

  /** Checks now, then whenever the next one falls due. */
  start(): void {
    this.#closed = false;
    void this.check();
  }

  /** Runs the decision now and renews what is due; the next check is set when it ends. */
  check(): Promise<void> {
    this.#running ??= this.#check().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #check(): Promise<void> {
    const { clock } = this.#d;
    this.#d.clock.clearTimeout(this.#timer);
    const plan = planRenewals(this.#d.candidates(), clock.now());
    let failed = false;
    for (const cert of plan.due) {
      if (this.#closed) return;
      try {
        await this.#d.renew(cert);
      } catch (err) {
        failed = true;
        this.#blocked = err instanceof Error ? err.message : String(err);
        this.#d.onBlocked?.(cert, this.#blocked);
      }
    }
    if (!failed) this.#blocked = null;
    if (this.#closed) return;
    const wait = plan.next === null || failed
      ? RENEWAL_CHECK_MS
      : Math.min(RENEWAL_CHECK_MS, Math.max(0, plan.next - clock.now()));
    this.#timer = clock.setTimeout(() => void this.check(), wait);
    clock.unref(this.#timer);
  }

  close(): void {
    this.#closed = true;
    this.#d.clock.clearTimeout(this.#timer);
  }
}

/**
 * On a device: its renewed certificate, fetched from the person key's node
 * (the one that linked it, at the addresses its link code named), checked:
 * the person's, for this key and name, valid now, ending later than `old`.
 * @throws {RojError} unreachable (none of its addresses answered), refused, protocol
 */
export async function fetchRenewal(
  kv: Deno.Kv,
  keyPair: KeyPair,
  self: { readonly person: Uint8Array; readonly certificate: Certificate },
  clock: Clock,
): Promise<Certificate> {
  const by = (await kv.get<{ device: Uint8Array; addresses: string[] }>(LINKED_BY)).value;
  if (!by) {
    // No node linked it: it was the person key's own node, and the key went offline (go_offline.ts).
    throw new RojError(
      "not_found",
      "the person key is offline: renew with `roj device renew --key FILE` (the exported key)",
    );
  }
  let last: unknown;
  for (const address of by.addresses) {
    let session: LinkingSession;
    try {
      session = await dialLinking(keyPair, address, by.device, self.certificate.keyId, clock);
    } catch (err) {
      last = err;
      continue;
    }
    try {
      const res = await session.rpc.request("device.renew", {});
      let cert: Certificate;
      try {
        cert = parseCertificate(decodeB64(res.certificate));
      } catch (err) {
        throw new RojError("protocol", "the person key's node sent a malformed certificate", {
          cause: err,
        });
      }
      const problem = await checkDeviceCertificate(cert, self.person, clock.now());
      if (problem !== null) {
        throw new RojError("protocol", `the renewed certificate does not check out (${problem})`);
      }
      if (!isRenewalOf(cert, self.certificate)) {
        throw new RojError("refused", "the person key's node has no renewal for this device yet");
      }
      return cert;
    } finally {
      session.close();
    }
  }
  throw new RojError(
    "unreachable",
    "the node that holds the person key is not reachable to renew this device's certificate",
    { cause: last },
  );
}
