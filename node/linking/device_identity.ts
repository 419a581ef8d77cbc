/**
 * Whether a data folder is a device of a person (made by `roj init --join`):
 * its store records the person's key and the device's certificate.
 */
import { type Certificate, parseCertificate } from "../identity/mod.ts";
import { keys } from "../store/mod.ts";

/** This folder is a device of a person: its person's key and its certificate. */
export interface DeviceIdentity {
  readonly person: Uint8Array;
  readonly certificate: Certificate;
}

/** The device identity a joined folder's store records, if it is one. */
export async function deviceIdentity(kv: Deno.Kv): Promise<DeviceIdentity | undefined> {
  const [person, cert] = await kv.getMany<unknown[]>([
    keys.setting("devicePerson"),
    keys.setting("deviceCertificate"),
  ]);
  if (!(person!.value instanceof Uint8Array) || !(cert!.value instanceof Uint8Array)) {
    return undefined;
  }
  return { person: person!.value, certificate: parseCertificate(cert!.value) };
}
