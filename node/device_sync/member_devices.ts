/**
 * The devices of a group's members, for group entries that come with no
 * session to say whose they are: boxes fetched from an anchor's mailbox
 * (mailbox/mailbox_fetch.ts). A device signs with its own key, its SSHSIG
 * carrying its certificate; the certificate's CA is its person, so it is
 * taken in for that person when they were ever a member of the group (the
 * contact's device book, or ours for our own devices: withOwnDevices, which
 * checks it is the person's, for that key, valid at the entry's time). Its
 * entries then count while it spoke for that member (GroupBook.speaksFor, a
 * revocation included), exactly as they do in a member's push.
 */
import type { GroupBook } from "../groups/mod.ts";
import { parseSshsig, sshsigNamesCertificate } from "../identity/mod.ts";
import { decodeEntry, type RawEntry } from "../log/mod.ts";
import type { MemberDevices } from "../mailbox/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { type ContactDevices, MAX_LEARNT_PER_PUSH } from "./own_devices.ts";

/** Members' devices as `groups` and `devices` know them (see the module's note). */
export function memberDevices(groups: GroupBook, devices: ContactDevices): MemberDevices {
  return {
    async learn(chat, raws) {
      const people = groups.everMembers(chat);
      // Keys whose certificate is held already: the members' own and their known devices'.
      const known = new Set(people.flatMap((p) => [p, ...devices.keys(p)]).map(toHex));
      const picked = new Map<string, { person: Uint8Array; raws: RawEntry[] }>();
      const looked = new Set<string>();
      for (const r of raws) {
        // A few new certificates per call (each a signature check); the fetch calls again.
        if (looked.size >= MAX_LEARNT_PER_PUSH) break;
        if (!sshsigNamesCertificate(r.sig)) continue;
        let author: Uint8Array;
        try {
          author = decodeEntry(r.signed).author;
        } catch {
          continue; // the merge refuses it with its reason
        }
        const k = toHex(author);
        if (known.has(k) || looked.has(k)) continue;
        looked.add(k);
        let ca: Uint8Array | undefined;
        try {
          ca = parseSshsig(r.sig).certificate?.caKey;
        } catch {
          continue;
        }
        const person = ca && people.find((p) => bytesEqual(p, ca));
        if (!person) continue; // not a member's device: its entries stay out
        const at = toHex(person);
        const got = picked.get(at) ?? { person, raws: [] };
        got.raws.push(r);
        picked.set(at, got);
      }
      for (const { person, raws } of picked.values()) await devices.learn(person, raws);
    },
    speaks: (chat, key, at) => groups.everMembers(chat).some((p) => groups.speaksFor(p, key, at)),
  };
}
