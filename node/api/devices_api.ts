/**
 * The local API's device methods (node/linking): their params, results and
 * the event they emit. Spread into api.ts's tables.
 */
import { z } from "zod";

/**
 * The person key's 32-byte seed in hex, lent by `--key FILE` to a device for
 * this one call (node/linking/lent_key.ts); never stored.
 */
const personKey = z.string().regex(/^[0-9a-f]{64}$/);

export const devicesParams = {
  /** Renew the certificates due now (on a device, with the person key lent: --key). */
  "device.renew": z.object({ personKey: personKey.optional() }).strict(),
  /** A one-time link code for a new device of yours (valid 10 minutes, single use). */
  "device.link": z.object({ personKey: personKey.optional() }).strict(),
  /** Your devices: those this node certified, or this device's own certificate. */
  devices: z.object({}).strict(),
  /** Revoke a device of yours: contacts refuse it from now on. */
  "device.remove": z.object({ name: z.string().min(1).max(32), personKey: personKey.optional() })
    .strict(),
} as const;

/** A link code made by `device.link`. */
export interface LinkCodeView {
  /** `rojdev1:…`, for `roj init --join`. */
  readonly text: string;
  /** Ms since the epoch. */
  readonly expires: number;
  /** "host:port" the new device dials. */
  readonly addresses: readonly string[];
}

/** One device as `roj devices` lists it. */
export interface DeviceView {
  readonly name: string;
  readonly fingerprint: string;
  /** When it was linked (ms), if it was linked here; else when its certificate starts. */
  readonly certifiedSince: number;
  /** When its certificate ends (ms); null: never. */
  readonly validUntil: number | null;
  /**
   * "valid", "expired", "not_yet_valid", "revoked" (devices/device_book.ts DeviceStanding),
   * or "person": on a device, the row of the node with the person key.
   */
  readonly standing: string;
  /** True when renewal is due (the certificate ends within 14 days). */
  readonly renewalDue: boolean;
  /**
   * Why a due renewal has not happened here (null when none is due or it
   * went through): on a device, the person key is not here and its node was
   * not reachable; on the person key's node, the key is not at hand (ssh-agent gone).
   */
  readonly renewalBlocked: string | null;
  /** When it last talked to this node (ms; now while online); null: never since it was linked. */
  readonly lastSeen: number | null;
  /** Whether a session with it is up. */
  readonly online: boolean;
  /** This row is the node itself (on a device: its own certificate). */
  readonly self: boolean;
}

/**
 * Devices: "linked" (a new device got its certificate here), "accepted" (a
 * contact's device came and its certificate checked out: the session is the
 * contact's), "refused" (a link or a contact's device was refused, `reason`
 * says why: wrong_secret, used, expired, name_taken for a link; a sentence
 * for a contact's device), "revoked" (a device was removed here, or a
 * contact's revocation of one of their devices arrived).
 */
export type DeviceEvent = {
  readonly type: "device";
  /**
   * `pending`: a new device got its certificate; it is linked once it confirms (`linked`).
   * `renewed`: a device's certificate was renewed (here, this device's own, or a contact's).
   * `renewal_due`: a due renewal failed (`reason`: the person key not at hand); tried again hourly.
   */
  readonly op:
    | "pending"
    | "linked"
    | "accepted"
    | "refused"
    | "revoked"
    | "renewed"
    | "renewal_due";
  readonly name?: string;
  readonly fingerprint: string;
  readonly reason?: string;
};

export interface DevicesResults {
  "device.link": LinkCodeView;
  devices: DeviceView[];
  "device.remove": DeviceView;
  "device.renew": DeviceView[];
}
