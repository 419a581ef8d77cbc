/**
 * Catch-ups under way (a chat taking in many entries from one peer or an
 * anchor's mailbox), for `roj status`, the admin and `read --follow`: an
 * event at every step, a log line at the start, the end and each quarter.
 */
import type { CatchUpView } from "../api/mod.ts";
import type { Clock } from "../clock/mod.ts";
import type { EventBus } from "../events.ts";
import type { ChatLog } from "../log/mod.ts";
import type { MailboxProgress } from "../mailbox/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";
import { CatchUp, lackCount, lacking } from "../sync/mod.ts";

/** What a sync reports while it runs: the peer's heads once, then each batch stored. */
export interface SyncProgress {
  heads(theirs: ReadonlyMap<string, { seq: number }>): void;
  stored(n: number): void;
}

export class CatchUpProgress {
  readonly #bus: EventBus;
  readonly #clock: Clock;
  readonly #log: ChatLog;
  readonly #chatName: (id: string) => string | undefined;
  readonly #running = new Map<string, CatchUpView>();
  readonly #starting: () => void;

  /** `starting` runs as a catch-up begins, before its first page is in (e.g. to start verifier workers). */
  constructor(
    bus: EventBus,
    clock: Clock,
    log: ChatLog,
    chatName: (id: string) => string | undefined,
    starting: () => void = () => {},
  ) {
    this.#bus = bus;
    this.#clock = clock;
    this.#log = log;
    this.#chatName = chatName;
    this.#starting = starting;
  }

  /** Catch-ups under way, for status. */
  get running(): CatchUpView[] {
    return [...this.#running.values()];
  }

  /** A catch-up moved. */
  report(p: MailboxProgress): void {
    const chat = this.#chatName(p.chat) ?? p.chat;
    const k = `${p.chat}/${p.from}`;
    const view: CatchUpView = { chat, from: p.from, done: p.done, total: p.total };
    const before = this.#running.get(k);
    if (!before && p.done === 0 && p.total > 0) this.#starting();
    if (p.done >= p.total) this.#running.delete(k);
    else this.#running.set(k, view);
    const quarter = (v: CatchUpView | undefined) => v ? Math.floor((v.done * 4) / v.total) : -1;
    if (!before || p.done >= p.total || quarter(before) !== quarter(view)) {
      this.#bus.say(
        p.done >= p.total
          ? `caught up ${chat} from ${p.from}: ${p.total} entries`
          : `catching up ${chat} from ${p.from}: ${p.done} of ${p.total} entries`,
      );
    }
    this.#bus.emit({ type: "progress", progress: view });
  }

  /** Progress of a sync of `chat` with the peer named `from()` on `rpc`, fed by its heads and stored entries. */
  forSync(chat: string, from: () => string, rpc: RpcSession): SyncProgress {
    const c = new CatchUp((p) => this.report({ chat, from: from(), ...p }), {
      now: () => this.#clock.now(),
    });
    rpc.onClose(() => {
      const p = c.progress;
      c.end();
      if (p) this.report({ chat, from: from(), done: p.total, total: p.total });
    });
    let theirs: ReadonlyMap<string, { seq: number }> | undefined;
    // What is left is read from our heads after each batch, not summed from
    // batch sizes: a batch stored while the first heads were being read would
    // otherwise be counted in neither, and the catch-up never end.
    const count = () =>
      this.#log.heads(chat).then((ours) => {
        c.expect(theirs!, ours);
        c.left(lackCount(lacking(theirs!, (k) => ours.get(k)?.seq ?? 0)));
      }).catch(() => {});
    return {
      heads: (t) => {
        if (theirs) return;
        theirs = t;
        count();
      },
      stored: () => {
        if (theirs) count();
      },
    };
  }
}
