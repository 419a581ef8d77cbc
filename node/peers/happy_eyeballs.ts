/**
 * Dialling a contact that has IPv6 and IPv4 addresses, in the spirit of Happy
 * Eyeballs (RFC 8305): IPv6 addresses are dialled first and get a short head
 * start; then the IPv4 ones join in parallel (at once if every IPv6 dial has
 * already failed, as on a host with no IPv6 route). The first session wins:
 * its dial claims the race, which aborts the others, and a loser that still
 * completes closes its connection instead of adding a second session.
 *
 * Why IPv6 first: a global IPv6 address is usually a direct path that no NAT
 * stands in front of, while an IPv4 address of a home node often leads to a
 * router that drops the dial.
 */
import { type Clock, systemClock, type TimerId } from "../clock/mod.ts";

/** The default head start of IPv6 addresses, in ms (RFC 8305 suggests 250). */
export const IPV6_HEAD_START_MS = 250;

/** Handed to each dial of one race. */
export interface DialRace {
  /** Aborted once another dial has claimed the race: stop, and close what was opened. */
  readonly signal: AbortSignal;
  /**
   * Called by a dial whose session is up, just before it keeps it: true for
   * the first caller (the others are aborted), false for every later one.
   */
  claim(): boolean;
}

export interface HappyEyeballsOptions {
  /** @default IPV6_HEAD_START_MS */
  readonly headStartMs?: number;
  /** Which addresses are IPv6 ones (see transport/isIPv6Address). */
  readonly isIPv6: (address: string) => boolean;
  /** Runs the head start. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Dials `addresses` as described above; true when one dial's session is up.
 * Resolves as soon as a dial succeeds; the losers finish on their own.
 * Without addresses of both families, all are dialled at once.
 */
export function dialHappyEyeballs(
  addresses: readonly string[],
  dial: (address: string, race: DialRace) => Promise<boolean>,
  options: HappyEyeballsOptions,
): Promise<boolean> {
  const controller = new AbortController();
  const race: DialRace = {
    signal: controller.signal,
    claim: () => {
      if (controller.signal.aborted) return false;
      controller.abort(new Error("another address answered first"));
      return true;
    },
  };
  const v6 = addresses.filter((a) => options.isIPv6(a));
  const v4 = addresses.filter((a) => !options.isIPv6(a));
  const headStart = v6.length > 0 && v4.length > 0 ? options.headStartMs ?? IPV6_HEAD_START_MS : 0;
  const clock = options.clock ?? systemClock;
  return new Promise<boolean>((resolve) => {
    let pending = addresses.length;
    let v6Pending = v6.length;
    let timer: TimerId | undefined;
    let v4Started = false;
    const finish = (ok: boolean) => {
      if (ok) {
        clock.clearTimeout(timer);
        resolve(true);
      } else if (--pending === 0) {
        resolve(false);
      }
    };
    const start = (address: string) => {
      dial(address, race).catch(() => false).then(finish);
    };
    const startV4 = () => {
      clock.clearTimeout(timer);
      if (v4Started) return;
      v4Started = true;
      if (controller.signal.aborted) {
        // An IPv6 dial won: the IPv4 addresses are never dialled.
        for (const _ of v4) finish(false);
        return;
      }
      for (const a of v4) start(a);
    };
    if (addresses.length === 0) return resolve(false);
    for (const a of v6) {
      dial(a, race).catch(() => false).then((ok) => {
        if (!ok && --v6Pending === 0) startV4();
        finish(ok);
      });
    }
    if (headStart === 0) startV4();
    else timer = clock.setTimeout(startV4, headStart);
  });
}
