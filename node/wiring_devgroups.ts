/**
 * A person's groups across the person's devices (node/device_sync
 * group_sync.ts, feature devgroups1), wired after wiring.ts built the
 * services: members take a device's group entries as its person's, the
 * sibling sessions carry the groups and their keys, a device's membership
 * changes are made by the node with the person key, and a device's removal
 * rotates the groups' keys.
 */
import type { ContactBook } from "./contacts/mod.ts";
import type { GroupService } from "./chats/mod.ts";
import { type GroupOp, GroupSync } from "./device_sync/mod.ts";
import { RojError } from "./errors.ts";
import { fingerprint } from "./identity/mod.ts";
import type { ResolvedOptions } from "./options.ts";
import { decodeB64 } from "./protocol/mod.ts";
import type { Books, Services } from "./wiring.ts";

export function wireDeviceGroups(
  o: ResolvedOptions,
  kv: Deno.Kv,
  b: Books,
  s: Services,
  rotated?: () => Promise<void>,
): GroupSync {
  const { devsync, groupService, syncs, directory, bus } = s;
  b.groups.speaksFor = (person, key, at) => devsync.speaksFor(person, key, at);
  const sync = new GroupSync({
    kv,
    own: devsync.own,
    clock: o.clock,
    bus,
    log: b.log,
    groups: b.groups,
    authors: (id, peer) => syncs.groupAuthors(id, peer),
    stored: (id, entries) => groupService.stored(id, entries),
    register: (id, name) => b.groups.register(id, name, directory.takenNames()),
    perform: (op) => perform(groupService, b.contacts, b.groups.get.bind(b.groups), op),
    ...(rotated ? { rotated } : {}),
    rekey: async (id) => {
      await b.groups.rekey(b.signer, id);
      groupService.reconcile(id);
    },
  });
  devsync.siblings.groups = sync;
  if (b.groups.onDevice) groupService.delegate = (op) => sync.delegate(op);
  return sync;
}

/** Makes a change a device of ours asked for, as if asked here; the group's id. @throws {RojError} */
async function perform(
  groups: GroupService,
  contacts: ContactBook,
  group: (id: string) => { name: string } | undefined,
  op: GroupOp,
): Promise<string> {
  if (op.op === "create") {
    if (!op.name) throw new RojError("bad_input", "a new group needs a name");
    return (await groups.create(op.name)).id;
  }
  const g = op.group ? group(op.group) : undefined;
  if (!g || !op.group) throw new RojError("not_found", "no such group here");
  const keys = op.members.map((m) => decodeB64(m.key));
  if (keys.some((k) => k.length !== 32)) throw new RojError("bad_input", "a key is 32 bytes");
  switch (op.op) {
    case "add": {
      const names = keys.map((k) => {
        const c = contacts.get(k);
        if (!c) throw new RojError("not_found", `${fingerprint(k)} is not a contact here`);
        return c.name;
      });
      await groups.add(g.name, names);
      break;
    }
    case "remove":
    case "promote":
      for (const k of keys) await groups[op.op](g.name, fingerprint(k));
      break;
    case "leave":
      await groups.leave(g.name);
      break;
  }
  return op.group;
}
