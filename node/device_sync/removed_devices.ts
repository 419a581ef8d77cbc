/**
 * What a node forgets of a device once it is removed (`roj device remove`,
 * issue 13 item 6): the revocation itself is kept (devices/revocation.ts), and
 * so is the certificate (it tells which of the device's entries, those from
 * before its removal, still count); what served only to reach the device and
 * to stay in step with it goes, so that nothing dials it again.
 */
import { keys } from "../store/mod.ts";

/**
 * Our own removed devices: where each listens (siblingAddresses) and how far
 * it took our contact changes (contactAck).
 */
export async function forgetSiblings(kv: Deno.Kv, removed: readonly Uint8Array[]): Promise<void> {
  for (const key of removed) {
    await kv.atomic().delete(keys.siblingAddresses(key)).delete(keys.contactAck(key)).commit();
  }
}

/** A contact's removed device: the address record it handed us (deviceRecord). */
export async function forgetDeviceRecord(
  kv: Deno.Kv,
  person: Uint8Array,
  device: Uint8Array,
): Promise<void> {
  await kv.delete(keys.deviceRecord(person, device));
}
