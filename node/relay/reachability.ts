/**
 * Whether peers could dial this node: it asks peers it reaches directly, and
 * outside its own networks (node/reach), to dial it back at the address they
 * see it at (reach.check), and answers such requests from its contacts. A
 * direct session a peer outside dialled to us answers the question without
 * asking. The decisions are reach_policy.ts's; this file makes the requests
 * and keeps the timers.
 */
import type { TimerId } from "../clock/mod.ts";
import { isRojError, RojError } from "../errors.ts";
import type { ParamsOf, ResultOf, RpcSession } from "../protocol/mod.ts";
import { formatEndpoint, parseEndpoint, unmapEndpoint } from "../transport/mod.ts";
import type { RelayEnv, RelayPeerSession } from "./relay_host.ts";
import {
  afterCheck,
  decideDialBack,
  dialBackAddresses,
  dialledFromOutside,
  pickCheckers,
  sessionAction,
} from "./reach_policy.ts";

/**
 * How long a dial-back may take. Long, because a busy checker that times out
 * would make a reachable node think it is not (it would then name relays
 * that nobody needs, which costs nothing but a record); a dial-back to a NAT
 * that drops the packets takes all of it, in the background.
 */
export const DIAL_BACK_TIMEOUT_MS = 8000;

/** This node's view of its own reachability, kept up to date. */
export class Reachability {
  readonly #env: RelayEnv;
  /** How often to look again. */
  recheckMs = 300_000;
  #reachable: boolean | undefined;
  #lastCheck = 0;
  #checking: Promise<void> | null = null;
  /** Sessions already logged as no checker (on our own networks), so each is said once. */
  readonly #ignored = new WeakSet<RpcSession>();
  #checkTimer: TimerId | undefined;
  #dialBacks = 0;
  #closed = false;

  constructor(env: RelayEnv) {
    this.#env = env;
  }

  /** Whether peers could dial this node, as far as it knows (undefined: not checked yet). */
  get reachable(): boolean | undefined {
    return this.#reachable;
  }

  /** A direct session came up: it may show we are reachable, or make a check due. */
  onSession(s: RelayPeerSession): void {
    const host = this.#env.host;
    if (host.passive || s.via !== undefined || this.#closed) return;
    const now = this.#env.now();
    const action = sessionAction(
      {
        reachable: this.#reachable,
        lastCheck: this.#lastCheck,
        pending: this.#checkTimer !== undefined || this.#checking !== null,
      },
      s,
      host.localNetworks(),
      now,
      this.recheckMs,
    );
    switch (action.type) {
      case "reachable":
        this.#lastCheck = now;
        this.#conclude(true, {
          how: "inbound",
          peer: s.peer,
          why: `${host.nameOf(s.peer)} dialled us from outside our networks`,
        });
        break;
      case "check-later":
        this.#checkIn(action.ms);
        break;
      case "check":
        this.check().catch(() => {});
        break;
      case "republish":
        host.republish("a relay came up");
        break;
    }
  }

  /** Checks again when the last check is `recheckMs` old (the relay's tick). */
  tick(now: number): void {
    if (this.#lastCheck > 0 && now - this.#lastCheck >= this.recheckMs) {
      this.#lastCheck = now;
      this.check().catch(() => {});
    }
  }

  /** Runs a check after `ms` (until then, sessions that come up schedule none). */
  #checkIn(ms: number): void {
    const clock = this.#env.clock;
    clock.clearTimeout(this.#checkTimer);
    this.#checkTimer = clock.setTimeout(() => {
      this.#checkTimer = undefined;
      this.check().catch(() => {});
    }, ms);
  }

  /**
   * Asks up to two peers outside our own networks (node/reach) that we reach
   * directly to dial us back at the published addresses they see us at.
   * Reachable when one gets through; unreachable when they tried and none did
   * (with two sessions up, both must fail); unchanged when nobody could try.
   * A live session that a peer outside dialled to us answers it without asking.
   */
  check(): Promise<void> {
    if (this.#checking) return this.#checking;
    this.#checking = this.#check().finally(() => (this.#checking = null));
    return this.#checking;
  }

  async #check(): Promise<void> {
    const host = this.#env.host;
    const networks = host.localNetworks();
    const live = host.sessions().filter((s) => s.via === undefined && !s.rpc.closed);
    const dialledUs = live.find((s) => dialledFromOutside(s, networks));
    if (dialledUs) {
      this.#lastCheck = this.#env.now();
      this.#conclude(true, {
        how: "inbound",
        peer: dialledUs.peer,
        why: `${host.nameOf(dialledUs.peer)} dialled us from outside our networks`,
      });
      return;
    }
    const { checkers, skipped } = pickCheckers(live, networks);
    for (const { s, code, reason } of skipped) {
      if (this.#ignored.has(s.rpc)) continue;
      this.#ignored.add(s.rpc);
      host.log(`not asking ${host.nameOf(s.peer)} to dial us back: ${reason}`);
      this.#env.note({ type: "dial-back-skipped", peer: s.peer, code });
    }
    let tried = false;
    let reached = false;
    let busy = false;
    for (const s of checkers) {
      for (const address of dialBackAddresses(s.rpc.peerHello?.sees, host.addresses())) {
        try {
          const res = await s.rpc.request("reach.check", { address }, DIAL_BACK_TIMEOUT_MS + 4000);
          tried = true;
          if (res.reached) reached = true;
        } catch (err) {
          // An older peer, or busy: no answer either way.
          if (isRojError(err, "busy") || isRojError(err, "timeout")) busy = true;
        }
        if (reached) break;
      }
      if (reached) break;
    }
    if (this.#closed) return;
    const next = afterCheck({ tried, reached, busy }, this.#reachable, this.#env.clock.random());
    if (next.type === "retry") this.#checkIn(next.ms);
    else if (next.type === "conclude") {
      this.#lastCheck = this.#env.now();
      this.#conclude(
        next.reached,
        next.reached
          ? { how: "dialled-back", why: "a peer dialled us back" }
          : { how: "dial-back-failed", why: "dial-back failed" },
      );
    }
  }

  /** Records what a check or an inbound session showed; says so and republishes when it changed. */
  #conclude(
    reached: boolean,
    { how, peer, why }: {
      how: "dialled-back" | "dial-back-failed" | "inbound";
      peer?: Uint8Array;
      why: string;
    },
  ): void {
    if (this.#closed || this.#reachable === reached) return;
    this.#reachable = reached;
    const host = this.#env.host;
    host.log(
      reached
        ? `reachable from outside (${why})`
        : `not reachable from outside (${why}); peers that relay will be named in our record`,
    );
    this.#env.note({ type: "reachability", reachable: reached, how, ...(peer ? { peer } : {}) });
    host.republish(reached ? "reachable from outside" : "not reachable from outside");
  }

  /** Serves reach.check from `asker`: dials it back at the address we see it at. */
  async dialBack(
    asker: Uint8Array,
    rpc: RpcSession,
    params: ParamsOf<"reach.check">,
  ): Promise<ResultOf<"reach.check">> {
    const host = this.#env.host;
    const to = unmapEndpoint(parseEndpoint(params.address));
    const d = decideDialBack(to, rpc.pipe.remote, this.#dialBacks);
    if (!d.ok) throw new RojError(d.code, d.reason);
    this.#dialBacks++;
    try {
      const reached = await host.dialBack(to, asker);
      host.log(
        `dialled ${host.nameOf(asker)} back at ${formatEndpoint(to)}: ${
          reached ? "reached" : "not reached"
        }`,
      );
      this.#env.note({ type: "dial-back", peer: asker, address: formatEndpoint(to), reached });
      return { reached };
    } finally {
      this.#dialBacks--;
    }
  }

  /** Stops: no more checks, no more verdicts. */
  close(): void {
    this.#closed = true;
    this.#env.clock.clearTimeout(this.#checkTimer);
  }
}
