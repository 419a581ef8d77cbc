/**
 * The person's agreement key (feature devagree1, node/device_sync
 * person_agreement.ts), wired after wiring.ts built the services: the hello
 * publishes it, contacts' are kept from theirs, group keys sealed to the
 * person open with it (on a device too), and the person key's node hands it
 * to each device over the sibling session.
 */
import { AgreeSync, PersonAgreeKeys, PersonAgreement } from "./device_sync/mod.ts";
import type { Profile } from "./home/mod.ts";
import { publishedAgreementKey, type Signer } from "./identity/mod.ts";
import { RojError } from "./errors.ts";
import { DEVSYNC_AGREE_FEATURE, encodeB64, peerHas } from "./protocol/mod.ts";
import type { ResolvedOptions } from "./options.ts";
import { bytesEqual } from "./wire/mod.ts";
import type { Books, Services } from "./wiring.ts";

/** What group keys are sealed to, worked out before the services exist (GroupBook.open). */
export interface AgreeTargets {
  /** The person this node is (the person key's, or a device's person). */
  readonly person: Uint8Array;
  readonly theirs: PersonAgreeKeys | undefined;
  /** Ours, once published (set by wireAgreement). */
  mine: (() => Uint8Array | undefined) | undefined;
}

/** Opens the contacts' person agreement keys (none on an anchor, which seals no group key). */
export async function agreeTargets(
  o: ResolvedOptions,
  profile: Profile,
  person: Uint8Array,
): Promise<AgreeTargets> {
  return {
    person,
    theirs: o.passive ? undefined : await PersonAgreeKeys.open(profile.store.kv),
    mine: undefined,
  };
}

/**
 * The X25519 key a group key for `k` is sealed to: the person agreement key
 * heard from that person (ours for us), else the one `agree` gives.
 */
export function sealTargets(
  t: AgreeTargets,
  agreeKeyOf: (k: Uint8Array) => Uint8Array | undefined,
): (k: Uint8Array) => Uint8Array | undefined {
  return (k) => (bytesEqual(k, t.person) ? t.mine?.() : t.theirs?.get(k)) ?? agreeKeyOf(k);
}

/** Wires the agreement key; what the group sync calls at a removal, before it rekeys. */
export async function wireAgreement(
  o: ResolvedOptions,
  profile: Profile,
  signer: Signer,
  onDevice: boolean,
  t: AgreeTargets,
  b: Books,
  s: Services,
): Promise<(() => Promise<void>) | undefined> {
  const theirs = t.theirs;
  if (o.passive || !theirs) return undefined;
  const { devsync, sessions, bus } = s;
  const kv = profile.store.kv;
  // Generation: how many of the person's devices were removed (each moves it on).
  const agreement = onDevice
    ? await PersonAgreement.forDevice(kv, t.person)
    : await PersonAgreement.forPerson(kv, signer, () => devsync.own.revocations().length);
  // Only a person with devices publishes one (else contacts would leave holders a second copy
  // of every record for nobody); what was sealed to it still opens after the last is removed.
  let linked = false;
  const mine = t.mine = () =>
    onDevice || linked || devsync.own.keys().length > 0 ? agreement.publicKey() : undefined;
  // A new key goes to the contacts in a session now; later ones hear it in the hello.
  const announce = () => {
    const k = mine();
    if (!k) return;
    for (const x of sessions.every()) {
      if (x.anchor || !peerHas(x.rpc.peerHello, DEVSYNC_AGREE_FEATURE)) continue;
      x.rpc.request("agree.person", { k: encodeB64(k) }).catch(() => {});
    }
  };
  // A device linked here counts at once (the book of devices reloads after the event).
  bus.subscribe((e) => {
    if (e.type === "device" && e.op === "linked" && !linked) {
      linked = true;
      announce();
    }
  });
  // Held until the session is the person's (a device's certificate checked): then by its rules.
  sessions.onServe((rpc) => {
    rpc.handle("agree.person", async (p) => {
      const key = publishedAgreementKey(p.k);
      if (!key) throw new RojError("bad_input", "not a usable X25519 key");
      const s = sessions.every().find((x) => x.rpc === rpc);
      if (s && !s.anchor) await theirs.heard(s.contact.publicKey, key, s.device !== undefined);
      return {};
    });
  });
  b.groups.openers = () => [profile.keyPair, ...agreement.pairs()];
  sessions.personAgree = {
    mine,
    heard: (person, key, fromDevice) => {
      theirs.heard(person, key, fromDevice).catch(() => {});
    },
    mark: () => theirs.mark(),
    revoked: (person, mark) => theirs.revoked(person, mark),
    of: (person) => theirs.get(person),
    devicePair: () => agreement.onDevice ? agreement.current()?.pair : undefined,
    onDevice: agreement.onDevice,
  };
  // 1:1 mail: a device seals with it, and what contacts sealed to it opens on every device.
  s.directMail.pairs.sides = () => ({
    onDevice: agreement.onDevice,
    pair: () => mine() ? agreement.current()?.pair : undefined,
    of: (person) => theirs.get(person),
  });
  const sync = new AgreeSync({
    own: devsync.own,
    clock: o.clock,
    bus,
    keyPair: profile.keyPair,
    agreement,
    taken: announce,
  });
  devsync.siblings.agree = sync;
  return async () => {
    await sync.rotated();
    announce();
  };
}
