/**
 * Per-chat settings (node/prefs) and read marks (node/chats ReadMarks) kept
 * in step with the person's other devices (device_sync/prefs_sync.ts,
 * feature devprefs1), built for wiring.ts: the settings are opened here, and
 * the sibling sessions take them along.
 */
import type { ChatService } from "./chats/mod.ts";
import type { Clock } from "./clock/mod.ts";
import type { EventBus } from "./events.ts";
import { type DeviceSync, PrefsSync } from "./device_sync/mod.ts";
import { ChatPrefs } from "./prefs/mod.ts";
import type { Store } from "./store/mod.ts";

export async function wirePrefs(d: {
  readonly store: Store;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly chats: ChatService;
  readonly devsync: DeviceSync;
}): Promise<ChatPrefs> {
  const prefs = await ChatPrefs.open(d.store);
  d.devsync.siblings.usePrefs(
    new PrefsSync({
      ...{ kv: d.store.kv, clock: d.clock, bus: d.bus, prefs, reads: d.chats.readMarks },
      // Own mail files each record for the person's devices not connected.
      kept: () => d.devsync.siblings.recordsChanged(),
    }),
  );
  return prefs;
}
