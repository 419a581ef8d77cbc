/**
 * Finding contacts on the same LAN: every node sends a small multicast
 * announcement now and then (at start, when its interfaces change, and every
 * `announceMs`) on each of its LAN interfaces (see interfaces.ts), over IPv4
 * and IPv6, holding one opaque tag per contact, padded (see announcement.ts).
 * A node that recognises one of its contacts' tags dials the datagram's source
 * address at the announced port, and the usual SSH host-key check decides: a
 * forged or replayed announcement costs at most a failed, rate-limited dial.
 *
 * Tags change every window (LAN_WINDOW_MS), so a node that is no contact
 * learns neither keys nor names, and cannot link announcements across windows;
 * it sees the sender's address and a coarse bucket of its number of contacts.
 *
 * Each interface has its own sending socket (node:dgram: Deno's DatagramConn
 * cannot set IP_MULTICAST_IF), bound to that interface's address, so that it
 * is the datagram's source the contact dials, and with that interface as its
 * multicast interface, so the datagram leaves there and not by the default
 * route. One socket per family (Deno.listenDatagram) listens on the groups,
 * joined on every LAN interface.
 */
import dgram from "node:dgram";
import { type Clock, systemClock, type TimerId } from "../clock/mod.ts";
import type { Pair } from "../discovery/mod.ts";
import { toHex } from "../log/mod.ts";
import { unmapIPv4 } from "../transport/mod.ts";
import { decodeAnnouncement, encodeAnnouncement, MAX_ANNOUNCEMENT } from "./announcement.ts";
import { ipv6Kind, type LanInterface, lanInterfaces } from "./interfaces.ts";

/** An administratively scoped IPv4 group (RFC 2365): it does not leave the site. */
export const LAN_GROUP = "239.255.82.74";
/**
 * The IPv6 group: link-local scope (ff02::/16, RFC 4291), which routers never
 * forward; the group id 0x726f6a4c spells "rojL" and is not in IANA's registry.
 */
export const LAN_GROUP6 = "ff02::726f:6a4c";
export const LAN_PORT = 7024;
/** How long a tag is used before the next one. */
export const LAN_WINDOW_MS = 10 * 60_000;

/**
 * What LAN discovery tells the node as it goes, beside the log lines for
 * people: keys and values (the node makes events of them, api/NodeEvent).
 */
export type LanNote =
  /** The interfaces announced on, after a (re)join: name and the addresses sent from. */
  | {
    readonly type: "interfaces";
    readonly interfaces: readonly {
      readonly name: string;
      readonly addresses: readonly string[];
    }[];
  }
  /** Announcing from `address` on interface `name` started to fail, or works (again). */
  | {
    readonly type: "announce";
    readonly name: string;
    readonly address: string;
    readonly ok: boolean;
  }
  /**
   * A contact's announcement, from `address` (its SSH "host:port"): told when
   * it is new there, or when we dial it (`dial`).
   */
  | {
    readonly type: "heard";
    readonly peer: Uint8Array;
    readonly address: string;
    readonly dial: boolean;
  };

export interface LanHost {
  readonly publicKey: Uint8Array;
  readonly pair: (them: Uint8Array) => Pair;
  /** Runs the interface poll; its `now` unless `now` is given. @default systemClock */
  readonly clock?: Clock;
  /** The time tags and dial gaps go by. @default clock.now */
  now?(): number;
  log(line: string): void;
  /** Told what happened, for the node's events. @default nothing */
  note?(n: LanNote): void;
  /** Contacts to announce to and to recognise (accepted people, no anchors). */
  contacts(): Uint8Array[];
  name(peer: Uint8Array): string;
  /** The TCP port our SSH server listens on. */
  sshPort(): number | undefined;
  /** Whether our SSH server takes IPv6 connections (it listens on "::"): only then we announce over IPv6. */
  sshIpv6(): boolean;
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
  /** How often to look for changed interfaces. @default 5000 */
  readonly pollMs?: number;
  /** @default LAN_WINDOW_MS */
  readonly windowMs?: number;
  /** The interfaces to announce on. @default lanInterfaces (this machine's LAN interfaces) */
  readonly interfaces?: () => readonly LanInterface[];
}

/** What the receiving side did with the datagrams it got (for tests and the curious). */
export interface LanStats {
  received: number;
  /** Dropped unread: over the budget of all sources together, or of their source. */
  overBudget: number;
  overSourceBudget: number;
  /** Dropped: larger than any announcement, or not a well-formed one. */
  tooLarge: number;
  malformed: number;
  /** Well-formed announcements read. */
  announcements: number;
}

/** Least time between two dials to one contact. */
const DIAL_GAP_MS = 15_000;
/** At most this many LAN dials per 10 s, whatever the announcements say. */
const DIALS_PER_10S = 8;
/** Datagrams read per second at most, from all sources together; the rest are dropped unread. */
const DATAGRAMS_PER_S = 200;
/**
 * Datagrams read per second from one source address. An honest node sends one
 * per interface every announceMs and answers at most once a second: a source
 * above this floods, and must not use up the budget of the others.
 */
const SOURCE_DATAGRAMS_PER_S = 4;
/** Sources counted per second; past this, new sources wait for the next second. */
const MAX_SOURCES_PER_S = 256;

/** The tag `owner` announces for `other` in `window` (a pure function of the pair). */
export function lanTag(pair: Pair, owner: Uint8Array, window: number): Uint8Array {
  return pair.lanTag(owner, window);
}

interface Sender {
  /** The interface's name and the address it sends from. */
  readonly name: string;
  readonly from: string;
  /** Resolves to whether it was sent (not, e.g., while the interface is down). */
  send(d: Uint8Array): Promise<boolean>;
  /** The last send failed: the interface may be down (a cable not plugged in yet). */
  failed: boolean;
  /** Whether sending was last told as working (undefined: not told yet). */
  toldOk?: boolean;
  close(): void;
}

/** A socket sending to `group`:`port` from `from`, out of the interface `iface` names. */
function openSender(
  name: string,
  type: "udp4" | "udp6",
  from: string,
  iface: string,
  group: string,
  port: number,
): Promise<Sender> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type });
    socket.once("error", reject);
    socket.bind({ address: from, port: 0 }, () => {
      socket.off("error", reject);
      // A send error is also reported as an event; without a listener it would throw.
      socket.on("error", () => {});
      try {
        socket.setMulticastInterface(iface);
        socket.setMulticastTTL(1); // this link only (IPv6: the hop limit)
        socket.setMulticastLoopback(false); // not to ourselves or other nodes on this machine
      } catch (err) {
        socket.close();
        reject(err);
        return;
      }
      resolve({
        name,
        from,
        send: (d) => new Promise((done) => socket.send(d, port, group, (err) => done(!err))),
        failed: false,
        close: () => {
          try {
            socket.close();
          } catch { /* already closed */ }
        },
      });
    });
  });
}

export class Lan {
  readonly #host: LanHost;
  readonly #port: number;
  readonly #announceMs: number;
  readonly #pollMs: number;
  readonly #windowMs: number;
  readonly #interfacesOf: () => readonly LanInterface[];
  #recv4: Deno.DatagramConn | undefined;
  #recv6: Deno.DatagramConn | undefined;
  #memberships: Array<{ leave(): Promise<void> }> = [];
  #senders: Sender[] = [];
  #interfaces = "";
  readonly #clock: Clock;
  readonly #now: () => number;
  #timer: TimerId | undefined;
  #lastAnnounce = 0;
  #lastAnswer = -Infinity;
  #closed = false;
  #ticking = false;
  /** Tags we expect from our contacts (hex → contact key), for the windows around now. */
  #expected: { key: string; byTag: Map<string, Uint8Array> } | undefined;
  /** Where each contact was last heard (hex → ip → when), for naming inbound sessions. */
  readonly #heard = new Map<string, Map<string, number>>();
  readonly #lastDial = new Map<string, number>();
  #dials: number[] = [];
  #budget = { second: 0, count: 0, bySource: new Map<string, number>() };
  readonly stats: LanStats = {
    received: 0,
    overBudget: 0,
    overSourceBudget: 0,
    tooLarge: 0,
    malformed: 0,
    announcements: 0,
  };

  constructor(host: LanHost, options: LanOptions = {}) {
    this.#host = host;
    const clock = this.#clock = host.clock ?? systemClock;
    this.#now = host.now ? () => host.now!() : () => clock.now();
    this.#port = options.port ?? LAN_PORT;
    this.#announceMs = options.announceMs ?? 30_000;
    this.#pollMs = options.pollMs ?? 5000;
    this.#windowMs = options.windowMs ?? LAN_WINDOW_MS;
    this.#interfacesOf = options.interfaces ?? lanInterfaces;
  }

  /** Listens on the groups and starts announcing; false (and a log line) when this machine cannot. */
  async start(): Promise<boolean> {
    const listen = (hostname: string) => {
      try {
        return Deno.listenDatagram({
          transport: "udp",
          hostname,
          port: this.#port,
          // Other programs (or nodes) on this machine may listen on the group too.
          reuseAddress: true,
          loopback: false,
        });
      } catch (err) {
        this.#host.log(
          `no LAN discovery on UDP [${hostname}]:${this.#port}: ${(err as Error).message}`,
        );
        return undefined;
      }
    };
    this.#recv4 = listen("0.0.0.0");
    // A machine without IPv6 still finds contacts over IPv4.
    this.#recv6 = listen("::");
    if (!this.#recv4 && !this.#recv6) return false;
    for (const s of [this.#recv4, this.#recv6]) if (s) this.#receive(s);
    await this.#rejoin();
    if (!this.#closed) this.#timer = this.#clock.setInterval(() => this.#tick(), this.#pollMs);
    return true;
  }

  /** The port the group is listened on (LanOptions.port, or the one the OS chose for 0). */
  get port(): number {
    return ((this.#recv4 ?? this.#recv6)?.addr as Deno.NetAddr | undefined)?.port ?? this.#port;
  }

  /** True when `peer`'s announcement came from `ip` within the last window. */
  heardAt(peer: Uint8Array, ip: string): boolean {
    const at = this.#heard.get(toHex(peer))?.get(unmapIPv4(ip));
    return at !== undefined && this.#now() - at < this.#windowMs;
  }

  /** Announces now (e.g. after contacts changed). */
  announce(): Promise<void> {
    return this.#announce();
  }

  close(): void {
    this.#closed = true;
    this.#clock.clearInterval(this.#timer);
    for (const s of [this.#recv4, this.#recv6]) {
      try {
        s?.close();
      } catch { /* already closed */ }
    }
    for (const s of this.#senders) s.close();
    this.#senders = [];
  }

  #window(offset = 0): number {
    return Math.floor(this.#now() / this.#windowMs) + offset;
  }

  #interfaceKey(ifs: readonly LanInterface[]): string {
    return JSON.stringify([this.#host.sshIpv6(), ifs]);
  }

  async #tick(): Promise<void> {
    // A slow rejoin or send must not overlap the next tick's.
    if (this.#closed || this.#ticking) return;
    this.#ticking = true;
    try {
      await this.#tickOnce();
    } finally {
      this.#ticking = false;
    }
  }

  async #tickOnce(): Promise<void> {
    if (this.#interfaceKey(this.#interfacesOf()) !== this.#interfaces) await this.#rejoin();
    else if (this.#now() - this.#lastAnnounce >= this.#announceMs) await this.#announce();
    else {
      // An interface that was down when we last announced: Deno lets a node
      // read no link state (sysfs needs --allow-all), but a send there fails,
      // so trying again each poll announces within pollMs of the link coming up.
      const failed = this.#senders.filter((s) => s.failed);
      if (failed.length > 0) await this.#announce(failed);
    }
  }

  /**
   * (Re)joins the groups and opens a sending socket on every LAN interface,
   * then announces: a new network hears us at once.
   */
  async #rejoin(): Promise<void> {
    if (this.#closed) return;
    const ifs = this.#interfacesOf();
    this.#interfaces = this.#interfaceKey(ifs);
    for (const m of this.#memberships) await m.leave().catch(() => {});
    for (const s of this.#senders) s.close();
    this.#memberships = [];
    this.#senders = [];
    const on: string[] = [];
    const told: Array<{ name: string; addresses: string[] }> = [];
    for (const i of ifs) {
      const used: string[] = [];
      if (i.ipv4 !== undefined && this.#recv4) {
        if (await this.#join(i, () => this.#recv4!.joinMulticastV4(LAN_GROUP, i.ipv4!))) {
          if (await this.#openSender(i, "udp4", i.ipv4, i.ipv4, LAN_GROUP)) used.push(i.ipv4);
        }
      }
      if (i.ipv6 !== undefined && i.index !== undefined && this.#recv6) {
        const index = i.index;
        if (await this.#join(i, () => this.#recv6!.joinMulticastV6(LAN_GROUP6, index))) {
          // Announcing an address our server does not take would only cost peers a dial.
          // The scope names the interface: by name, except on Windows, which numbers them.
          const scope = Deno.build.os === "windows" ? `${index}` : i.name;
          if (
            this.#host.sshIpv6() &&
            await this.#openSender(i, "udp6", i.ipv6, `::%${scope}`, LAN_GROUP6)
          ) used.push(i.ipv6);
        }
      }
      if (used.length > 0) {
        on.push(`${i.name} (${used.join(", ")})`);
        told.push({ name: i.name, addresses: used });
      }
    }
    if (this.#closed) { // while we were joining: close() did not see these
      for (const s of this.#senders) s.close();
      this.#senders = [];
      return;
    }
    this.#host.log(
      on.length > 0 ? `LAN discovery on ${on.join(", ")}` : "LAN discovery: no LAN interface",
    );
    this.#note({ type: "interfaces", interfaces: told });
    await this.#announce();
  }

  async #join(i: LanInterface, join: () => Promise<{ leave(): Promise<void> }>): Promise<boolean> {
    try {
      this.#memberships.push(await join());
      return true;
    } catch (err) {
      this.#host.log(`cannot join the LAN group on ${i.name}: ${(err as Error).message}`);
      return false;
    }
  }

  async #openSender(
    i: LanInterface,
    type: "udp4" | "udp6",
    from: string,
    iface: string,
    group: string,
  ): Promise<boolean> {
    try {
      this.#senders.push(await openSender(i.name, type, from, iface, group, this.#port));
      return true;
    } catch (err) {
      this.#host.log(`cannot announce on ${i.name} from ${from}: ${(err as Error).message}`);
      return false;
    }
  }

  async #announce(senders = this.#senders): Promise<void> {
    const port = this.#host.sshPort();
    if (this.#closed || port === undefined || senders.length === 0) return;
    if (senders === this.#senders) this.#lastAnnounce = this.#now();
    const window = this.#window();
    const me = this.#host.publicKey;
    const tags = this.#host.contacts().map((c) => lanTag(this.#host.pair(c), me, window));
    await Promise.all(senders.map(async (s) => {
      // Fresh filler and order per datagram: two copies of one announcement differ.
      const d = encodeAnnouncement(port, tags);
      if (!d) return;
      s.failed = !await s.send(d);
      if (s.toldOk !== !s.failed && !this.#closed) {
        s.toldOk = !s.failed;
        this.#note({ type: "announce", name: s.name, address: s.from, ok: !s.failed });
      }
    }));
  }

  async #receive(socket: Deno.DatagramConn): Promise<void> {
    try {
      for await (const [data, from] of socket) {
        if (this.#closed) return;
        if (from.transport !== "udp") continue;
        this.#read(data, from.hostname);
      }
    } catch {
      // The socket was closed.
    }
  }

  #read(data: Uint8Array, source: string): void {
    this.stats.received++;
    if (!this.#withinBudget(source)) return;
    if (data.length > MAX_ANNOUNCEMENT) {
      this.stats.tooLarge++;
      return;
    }
    const a = decodeAnnouncement(data);
    if (!a) {
      this.stats.malformed++;
      return;
    }
    this.stats.announcements++;
    const ip = unmapIPv4(source);
    // A link-local source cannot be dialled without its interface, which we are not told.
    if (ipv6Kind(ip) === "link-local") return;
    for (const tag of a.tags) {
      const peer = this.#expectedTags().get(toHex(tag));
      if (peer) this.#heardFrom(peer, ip, a.port);
    }
  }

  #withinBudget(source: string): boolean {
    const second = Math.floor(this.#now() / 1000);
    if (second !== this.#budget.second) this.#budget = { second, count: 0, bySource: new Map() };
    if (++this.#budget.count > DATAGRAMS_PER_S) {
      this.stats.overBudget++;
      return false;
    }
    const bySource = this.#budget.bySource;
    const n = (bySource.get(source) ?? 0) + 1;
    if (n > SOURCE_DATAGRAMS_PER_S || (n === 1 && bySource.size >= MAX_SOURCES_PER_S)) {
      this.stats.overSourceBudget++;
      return false;
    }
    bySource.set(source, n);
    return true;
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
    const now = this.#now();
    const places = this.#heard.get(k) ?? new Map<string, number>();
    const before = places.get(ip);
    for (const [p, at] of places) if (now - at >= this.#windowMs) places.delete(p);
    places.set(ip, now);
    this.#heard.set(k, places);
    // A contact new on this network may not have heard us yet (it came up after
    // our last announcement): answer at once, at most once a second, so both
    // sides know the session that follows is a LAN one.
    const fresh = before === undefined || now - before > 2 * this.#announceMs;
    if (fresh && now - this.#lastAnswer >= 1000) {
      this.#lastAnswer = now;
      this.#announce().catch(() => {});
    }
    const addr = ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
    const dial = this.#mayDial(k, peer, now);
    if (fresh || dial) this.#note({ type: "heard", peer, address: addr, dial });
    if (!dial) return;
    this.#host.log(`heard ${this.#host.name(peer)} on the LAN at ${addr}`);
    this.#host.dial(peer, addr).catch(() => {});
  }

  /** Whether to dial a contact heard now: wanted, and within the per-contact and overall rates (counted). */
  #mayDial(k: string, peer: Uint8Array, now: number): boolean {
    if (!this.#host.wanted(peer)) return false;
    if (now - (this.#lastDial.get(k) ?? -Infinity) < DIAL_GAP_MS) return false;
    this.#dials = this.#dials.filter((t) => now - t < 10_000);
    if (this.#dials.length >= DIALS_PER_10S) return false;
    this.#dials.push(now);
    this.#lastDial.set(k, now);
    return true;
  }

  #note(n: LanNote): void {
    try {
      this.#host.note?.(n);
    } catch { /* a listener's failure is its own */ }
  }
}
