/**
 * What a node is told at open, resolved once into a fully defined object
 * that every service receives. Defaults are written here and nowhere else;
 * whether the node is a passive anchor is decided here too, so that no
 * service has to ask later.
 */
import type { AskPassphrase } from "./home/mod.ts";
import { type Clock, systemClock } from "./clock/mod.ts";
import {
  type AnchorFileLimits,
  DEFAULT_ANCHOR_FILE_LIMITS,
  DEFAULT_FILE_LIMITS,
  type FileLimits,
} from "./files/mod.ts";
import type { MailboxLimits } from "./mailbox/mod.ts";
import type { RelayOptions, RelayTiming } from "./relay/mod.ts";
import { type Endpoint, formatEndpoint, parseEndpoint } from "./transport/mod.ts";

export interface NodeOptions {
  /** The data folder, already resolved (see home/resolveDataDir). */
  dataDir: string;
  /** Asked when the key is protected by a passphrase. */
  ask?: AskPassphrase;
  /** The ssh-agent's socket ($SSH_AUTH_SOCK), for an identity whose key is there. @default none */
  agentSocket?: string;
  /** How often a key in ssh-agent is checked for (to notice the agent went or came back). @default 5000 */
  agentCheckMs?: number;
  /** Time, timers and protocol randomness. @default systemClock */
  clock?: Clock;
  /** Only the time of `clock` replaced (a test's clock that jumps). @default clock.now */
  now?: () => number;
  /** One line per event (connections, refusals, deliveries). @default no logging */
  log?: (line: string) => void;
  /** Run as a passive anchor: hold sealed records and mail for members, run no chats. @default false */
  passive?: boolean;
  /** Where the SSH server listens; "::" takes IPv4 too (0.0.0.0 where there is no IPv6). @default [::]:7022 */
  listen?: Endpoint;
  /** Publish these "host:port" addresses instead of the listening ones. @default [] */
  advertise?: string[];
  /** How often to look for changed interface addresses when listening everywhere. @default 5000 */
  interfacePollMs?: number;
  /** Timeout for each dial. @default 5000 */
  dialTimeoutMs?: number;
  /** Carry 1:1 mail between contacts (`false` is `--no-carry`); never on an anchor. @default true */
  carry?: boolean;
  /** A passive anchor's group mailbox bounds. @default DEFAULT_MAILBOX_LIMITS */
  mailbox?: Partial<MailboxLimits>;
  /** Serve QUIC on the listen port (UDP) and punch through NATs. @default true */
  quic?: boolean;
  /** Relaying for contacts (`enabled: false` is `--no-relay`), its limits, and its timers. @default relay/resolveRelayLimits */
  relay?: RelayOptions & RelayTiming;
  /** Ask the LAN gateway (UPnP-IGD / NAT-PMP) to forward the listen port; `roj run` sets it unless `--no-upnp`. @default false */
  portMap?: boolean;
  /** Internal (tests): the lease asked of the router, renewed at half. @default 3_600_000 */
  portMapLeaseMs?: number;
  /** Internal (tests): features left out of the hello, as a node of an older version would. @default [] */
  omitFeatures?: readonly string[];
  /** Internal (tests): linking waits for good after this step's commit, for a test to kill the node there. */
  linkHold?: "pending" | "linked";
  /**
   * Find contacts on the same LAN by multicast announcements (node/lan); not
   * when listening on loopback. Off by default here so that tests stay off the
   * machine's network; `roj run` turns it on (`--no-lan` turns it off).
   * @default false
   */
  lan?: boolean;
  /** Largest file sent or fetched, in bytes (`roj run --max-file-size`). @default 2 GiB */
  maxFileSize?: number;
  /** Bytes of files one contact may have stored here (`roj run --file-quota`). @default 8 GiB */
  fileQuota?: number;
  /** Room kept free on the data folder's disk by file transfers (`--min-free-disk`). @default 64 MiB */
  minFreeDisk?: number;
  /** An anchor's bounds on the group files it holds for members (files/anchor_files.ts). */
  anchorFiles?: Partial<AnchorFileLimits>;
  /**
   * Told the bytes of each file chunk kept or read (files/chunk_store.ts):
   * `roj run` frees their garbage every few MiB with it (cli/heap_trim.ts).
   * @default nothing
   */
  fileBytesMoved?: (bytes: number) => void;
}

/** NodeOptions with every default applied and every address parsed. */
export interface ResolvedOptions {
  readonly dataDir: string;
  readonly ask: AskPassphrase | undefined;
  readonly agentSocket: string | undefined;
  readonly agentCheckMs: number;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  readonly passive: boolean;
  readonly listen: Endpoint;
  /** Canonical "host:port" forms. */
  readonly advertise: readonly string[];
  readonly interfacePollMs: number;
  readonly dialTimeoutMs: number;
  /** Bounds over the mailbox's own defaults (mailbox/DEFAULT_MAILBOX_LIMITS). */
  readonly mailbox: Partial<MailboxLimits>;
  /** Holds 1:1 mail between contacts (a person's node, not `--no-carry`). */
  readonly carry: boolean;
  readonly quic: boolean;
  readonly relay: RelayOptions & RelayTiming;
  readonly portMap: boolean;
  readonly portMapLeaseMs: number | undefined;
  readonly omitFeatures: readonly string[];
  readonly linkHold: "pending" | "linked" | undefined;
  /** Off on loopback and for anchors, whatever was asked. */
  readonly lan: boolean;
  /** Files: the largest one sent or fetched, and what one contact may store here (files/). */
  readonly files: FileLimits;
  readonly anchorFiles: AnchorFileLimits;
  readonly fileBytesMoved: ((bytes: number) => void) | undefined;
}

export const DEFAULT_LISTEN: Endpoint = { host: "::", port: 7022 };

/** Hosts that cannot see a LAN: a node listening there announces nothing. */
const LOOPBACK_HOST = /^(127\.|::1$|localhost$)/;

/**
 * Applies the defaults once.
 * @throws {RojError} bad_input when an advertised address is not "host:port".
 */
export function resolveOptions(options: NodeOptions): ResolvedOptions {
  const base = options.clock ?? systemClock;
  const clock: Clock = options.now ? { ...bind(base), now: options.now } : base;
  const passive = options.passive ?? false;
  const listen = options.listen ?? DEFAULT_LISTEN;
  return {
    dataDir: options.dataDir,
    ask: options.ask,
    agentSocket: options.agentSocket,
    agentCheckMs: options.agentCheckMs ?? 5000,
    clock,
    log: options.log ?? (() => {}),
    passive,
    listen,
    advertise: (options.advertise ?? []).map((a) => formatEndpoint(parseEndpoint(a))),
    interfacePollMs: options.interfacePollMs ?? 5000,
    dialTimeoutMs: options.dialTimeoutMs ?? 5000,
    mailbox: options.mailbox ?? {},
    carry: !passive && (options.carry ?? true),
    quic: options.quic ?? true,
    relay: options.relay ?? {},
    portMap: options.portMap ?? false,
    portMapLeaseMs: options.portMapLeaseMs,
    omitFeatures: options.omitFeatures ?? [],
    linkHold: options.linkHold,
    lan: (options.lan ?? false) && !passive && !LOOPBACK_HOST.test(listen.host),
    files: {
      maxFileSize: options.maxFileSize ?? DEFAULT_FILE_LIMITS.maxFileSize,
      quotaPerContact: options.fileQuota ?? DEFAULT_FILE_LIMITS.quotaPerContact,
      ...(options.minFreeDisk !== undefined ? { minFree: options.minFreeDisk } : {}),
    },
    anchorFiles: { ...DEFAULT_ANCHOR_FILE_LIMITS, ...options.anchorFiles },
    fileBytesMoved: options.fileBytesMoved,
  };
}

/** A clock's methods bound to it, so that one can be replaced in a copy. */
function bind(c: Clock): Clock {
  return {
    now: () => c.now(),
    random: () => c.random(),
    setTimeout: (fn, ms) => c.setTimeout(fn, ms),
    clearTimeout: (id) => c.clearTimeout(id),
    setInterval: (fn, ms) => c.setInterval(fn, ms),
    clearInterval: (id) => c.clearInterval(id),
    unref: (id) => c.unref(id),
  };
}
