/**
 * Finding contacts on the same LAN: every node on a network sends a small
 * multicast announcement now and then (at start, when its addresses change,
 * and every `announceMs`) holding one opaque tag per contact (see
 * announcement.ts). A node that recognises one of its contacts' tags dials
 * the datagram's source IP at the announced port, and the usual SSH host-key
 * check decides: a forged or replayed announcement costs at most a failed,
 * rate-limited dial.
 *
 * Tags change every window (LAN_WINDOW_MS), so a node that is no contact
 * learns neither keys nor names, and cannot link announcements across windows
 * (it does see the sender's IP and how many contacts it announces to).
 */
import type { Pair } from "../discovery/mod.ts";
import { toHex } from "../log/mod.ts";
import { unmapIPv4 } from "../transport/mod.ts";
import { decodeAnnouncement, encodeAnnouncements, MAX_ANNOUNCEMENT } from "./announcement.ts";

/** An administratively scoped group (RFC 2365): it does not leave the site. */
export const LAN_GROUP = "239.255.82.74";
export const LAN_PORT = 7024;
/** How long a tag is used before the next one. */
export const LAN_WINDOW_MS = 10 * 60_000;

export interface LanHost {
  readonly publicKey: Uint8Array;
  readonly pair: (them: Uint8Array) => Pair;
  now(): number;
  log(line: string): void;
  /** Contacts to announce to and to recognise (accepted people, no anchors). */
  contacts(): Uint8Array[];
  name(peer: Uint8Array): string;
  /** The TCP port our SSH server listens on. */
  sshPort(): number | undefined;
  /** Whether reaching `peer` over the LAN is worth a dial now (no session, or a worse one). */
  wanted(peer: Uint8Array): boolean;
  /** Dials `addr` expecting `peer`'s host key; true when the session is kept. */
  dial(peer: Uint8Array, addr: string): Promise<boolean>;
}

export interface LanOptions {
  /** The UDP port of the group. @default LAN_PORT */
  readonly port?: number;
  /** @default 30000 */
  readonly announceMs?: number;
  /** How often to look for changed interface addresses. @default 5000 */
  readonly pollMs?: number;
  /** @default LAN_WINDOW_MS */
  readonly windowMs?: number;
}

/** Least time between two dials to one contact. */
const DIAL_GAP_MS = 15_000;
/** At most this many LAN dials per 10 s, whatever the announcements say. */
const DIALS_PER_10S = 8;
/** Datagrams read per second at most; the rest are dropped unread. */
const DATAGRAMS_PER_S = 200;

/** The tag `owner` announces for `other` in `window` (a pure function of the pair). */
export function lanTag(pair: Pair, owner: Uint8Array, window: number): Uint8Array {
  return pair.lanTag(owner, window);
}

/** The machine's IPv4 addresses other than loopback; [] when they cannot be read. */
function ipv4Interfaces(): string[] {
  try {
    return Deno.networkInterfaces()
      .filter((i) => i.family === "IPv4" && !i.address.startsWith("127."))
      .map((i) => i.address)
      .filter((a, i, all) => all.indexOf(a) === i)
      .sort();
  } catch {
    return [];
  }
}

export class Lan {
  readonly #host: LanHost;
  readonly #port: number;
  readonly #announceMs: number;
  readonly #pollMs: number;
  readonly #windowMs: number;
  #socket: Deno.DatagramConn | undefined;
  #memberships: Deno.MulticastV4Membership[] = [];
  #interfaces = "";
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastAnnounce = 0;
  #lastAnswer = -Infinity;
  #closed = false;
  /** Tags we expect from our contacts (hex → contact key), for the windows around now. */
  #expected: { key: string; byTag: Map<string, Uint8Array> } | undefined;
  /** Where each contact was last heard (hex → ip and when), for naming inbound sessions. */
  readonly #heard = new Map<string, { ip: string; at: number }>();
  readonly #lastDial = new Map<string, number>();
  #dials: number[] = [];
  #budget = { second: 0, count: 0 };

  constructor(host: LanHost, options: LanOptions = {}) {
    this.#host = host;
    this.#port = options.port ?? LAN_PORT;
    this.#announceMs = options.announceMs ?? 30_000;
    this.#pollMs = options.pollMs ?? 5000;
    this.#windowMs = options.windowMs ?? LAN_WINDOW_MS;
  }

  /** Joins the group and starts announcing; false (and a log line) when this machine cannot. */
  async start(): Promise<boolean> {
    try {
      this.#socket = Deno.listenDatagram({
        transport: "udp",
        hostname: "0.0.0.0",
        port: this.#port,
        // Other programs (or nodes) on this machine may listen on the group too.
        reuseAddress: true,
        loopback: false,
      });
    } catch (err) {
      this.#host.log(
        `no LAN discovery: cannot listen on UDP ${this.#port}: ${(err as Error).message}`,
      );
      return false;
    }
    this.#receive(this.#socket);
    await this.#rejoin();
    this.#timer = setInterval(() => this.#tick(), this.#pollMs);
    return true;
  }

  /** True when `peer`'s announcement came from `ip` within the last window. */
  heardAt(peer: Uint8Array, ip: string): boolean {
    const h = this.#heard.get(toHex(peer));
    return h !== undefined && h.ip === ip && this.#host.now() - h.at < this.#windowMs;
  }

  /** Announces now (e.g. after contacts changed). */
  announce(): Promise<void> {
    return this.#announce();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    try {
      this.#socket?.close();
    } catch { /* already closed */ }
  }

  #window(offset = 0): number {
    return Math.floor(this.#host.now() / this.#windowMs) + offset;
  }

  async #tick(): Promise<void> {
    if (this.#closed) return;
    const now = ipv4Interfaces().join(",");
    if (now !== this.#interfaces) await this.#rejoin();
    else if (this.#host.now() - this.#lastAnnounce >= this.#announceMs) await this.#announce();
  }

  /** (Re)joins the group on every interface, then announces: a new network hears us at once. */
  async #rejoin(): Promise<void> {
    const socket = this.#socket;
    if (!socket || this.#closed) return;
    const addrs = ipv4Interfaces();
    this.#interfaces = addrs.join(",");
    for (const m of this.#memberships) await m.leave().catch(() => {});
    this.#memberships = [];
    for (const a of addrs) {
      try {
        this.#memberships.push(await socket.joinMulticastV4(LAN_GROUP, a));
      } catch (err) {
        this.#host.log(`cannot join the LAN group on ${a}: ${(err as Error).message}`);
      }
    }
    await this.#announce();
  }

  async #announce(): Promise<void> {
    const socket = this.#socket;
    const port = this.#host.sshPort();
    if (!socket || this.#closed || port === undefined || this.#memberships.length === 0) return;
    this.#lastAnnounce = this.#host.now();
    const window = this.#window();
    const me = this.#host.publicKey;
    const tags = this.#host.contacts().map((c) => lanTag(this.#host.pair(c), me, window));
    for (const d of encodeAnnouncements(port, tags)) {
      await socket.send(d, { transport: "udp", hostname: LAN_GROUP, port: this.#port })
        .catch(() => {}); // no route for multicast (yet): the next tick tries again
    }
  }

  async #receive(socket: Deno.DatagramConn): Promise<void> {
    try {
      for await (const [data, from] of socket) {
        if (this.#closed) return;
        if (!this.#withinBudget() || data.length > MAX_ANNOUNCEMENT) continue;
        const a = decodeAnnouncement(data);
        if (!a || from.transport !== "udp") continue;
        for (const tag of a.tags) {
          const peer = this.#expectedTags().get(toHex(tag));
          // The socket is IPv4 today; a mapped form must never be dialled or compared.
          if (peer) this.#heardFrom(peer, unmapIPv4(from.hostname), a.port);
        }
      }
    } catch {
      // The socket was closed.
    }
  }

  #withinBudget(): boolean {
    const second = Math.floor(this.#host.now() / 1000);
    if (second !== this.#budget.second) this.#budget = { second, count: 0 };
    return ++this.#budget.count <= DATAGRAMS_PER_S;
  }

  /** Our contacts' tags for the previous, current and next window (clocks differ a little). */
  #expectedTags(): Map<string, Uint8Array> {
    const contacts = this.#host.contacts();
    const w = this.#window();
    const key = `${w}:${contacts.map(toHex).join(",")}`;
    if (this.#expected?.key === key) return this.#expected.byTag;
    const byTag = new Map<string, Uint8Array>();
    for (const c of contacts) {
      const pair = this.#host.pair(c);
      for (const off of [-1, 0, 1]) byTag.set(toHex(lanTag(pair, c, w + off)), c);
    }
    this.#expected = { key, byTag };
    return byTag;
  }

  #heardFrom(peer: Uint8Array, ip: string, port: number): void {
    const k = toHex(peer);
    const now = this.#host.now();
    const before = this.#heard.get(k);
    this.#heard.set(k, { ip, at: now });
    // A contact new on this network may not have heard us yet (it came up after
    // our last announcement): answer at once, at most once a second, so both
    // sides know the session that follows is a LAN one.
    const fresh = !before || before.ip !== ip || now - before.at > 2 * this.#announceMs;
    if (fresh && now - this.#lastAnswer >= 1000) {
      this.#lastAnswer = now;
      this.#announce().catch(() => {});
    }
    if (!this.#host.wanted(peer)) return;
    if (now - (this.#lastDial.get(k) ?? -Infinity) < DIAL_GAP_MS) return;
    this.#dials = this.#dials.filter((t) => now - t < 10_000);
    if (this.#dials.length >= DIALS_PER_10S) return;
    this.#dials.push(now);
    this.#lastDial.set(k, now);
    const addr = `${ip}:${port}`;
    this.#host.log(`heard ${this.#host.name(peer)} on the LAN at ${addr}`);
    this.#host.dial(peer, addr).catch(() => {});
  }
}
