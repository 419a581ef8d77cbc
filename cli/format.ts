/**
 * Plain-text rendering of entries and node views for the terminal. Every
 * piece of peer text goes through escapeControl (names, addresses, reasons)
 * or, for message bodies, escapeLines: a body's own newlines are kept and
 * its continuation lines indented, so "hi\n10:00 bob  hello" cannot pass for
 * a second message.
 */
import { escapeControl, escapeLines } from "../node/mod.ts";
import type { Entry } from "../node/mod.ts";
import type {
  CatchUpView,
  ChatView,
  ContactView,
  ForkView,
  MessageView,
  PeerView,
  PortMapView,
  StatusView,
} from "../node/mod.ts";

const pad = (n: number) => String(n).padStart(2, "0");

/** Local time as "YYYY-MM-DD HH:MM". */
export function shortTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${
    pad(d.getMinutes())
  }`;
}

/**
 * Peer text on one line: control characters (newlines too, but tabs), bidi
 * controls and line separators escaped (node/text), so that text from others
 * cannot move the cursor, recolour the terminal, reorder what is shown or
 * forge a line.
 */
export { escapeControl };

/** A message body: each line escaped, continuation lines indented four spaces. */
const bodyText = (body: string) => escapeLines(body, "    ");

/** One line per entry; continuation lines of a body are indented. */
export function entryLine(e: Entry, author: string): string {
  return `${shortTime(e.ts)}  ${escapeControl(author)}  ${bodyText(e.body)}`;
}

/**
 * The marker shown after the author of an own message: ✓✓ read, ✓ delivered,
 * → held at an anchor for them (1:1 mail), · stored.
 */
export function stateMarker(m: Pick<MessageView, "mine" | "state" | "chat">): string {
  if (!m.mine || m.chat === "notes") return "";
  return m.state === "read"
    ? "✓✓"
    : m.state === "delivered"
    ? "✓"
    : m.state === "at-anchor"
    ? "→"
    : "·";
}

/** Digits of a message's id that `roj read` shows (edit, delete, react and --reply take them). */
export const SHOWN_ID_DIGITS = 8;

/**
 * What a message shows beyond its text: what it replies to, "(edited)",
 * "(deleted for everyone)", its reactions.
 */
function decorated(m: MessageView): string {
  if (m.deleted) return "(deleted for everyone)";
  const reply = m.replyTo
    ? `[↳ ${m.replyTo.id.slice(0, SHOWN_ID_DIGITS)}${
      m.replyTo.author !== undefined
        ? ` ${escapeControl(m.replyTo.author)}: ${preview(m.replyTo.body ?? "", 30)}`
        : ""
    }] `
    : "";
  const reactions = m.reactions?.length
    ? `  [${m.reactions.map((r) => `${escapeControl(r.emoji)} ${r.authors.length}`).join(" ")}]`
    : "";
  return `${reply}${bodyText(m.body)}${m.edited ? " (edited)" : ""}${reactions}`;
}

/**
 * One message as "time id  author[ marker]  body": the same columns as
 * entryLine (the short id is in the time column), so `cut`/`split("  ")`
 * work on either.
 */
export function messageLine(m: MessageView): string {
  const marker = stateMarker(m);
  return `${shortTime(m.ts)} ${m.id.slice(0, SHOWN_ID_DIGITS)}  ${escapeControl(m.author)}${
    marker ? ` ${marker}` : ""
  }  ${decorated(m)}`;
}

/**
 * A fork on record, for the person: "! bob's node signed two different
 * entries #17 (first seen …): the first is kept, no more of that fork is
 * taken (hashes 1a2b3c4d / 5e6f7a8b)".
 */
export function forkLine(f: ForkView): string {
  const when = `first seen ${shortTime(f.firstSeen)}`;
  const hashes = `hashes ${f.kept.slice(0, 8)} / ${f.twin.slice(0, 8)}`;
  return f.mine
    ? `! this identity signed two different entries #${f.seq} (${when}): is it running on another device too? The first is kept (${hashes})`
    : `! ${
      escapeControl(f.author)
    }'s node signed two different entries #${f.seq} (${when}): the first is kept, no more of that fork is taken (${hashes})`;
}

/** The first `max` characters of a body on one line, whitespace collapsed. */
export function preview(body: string, max = 48): string {
  const flat = escapeControl(body.replace(/\s+/g, " ").trim());
  const chars = [...flat];
  return chars.length <= max ? flat : `${chars.slice(0, max - 1).join("")}…`;
}

/** How long ago `ms` was, as a person says it: "just now", "5 min ago", "3 days ago", "never". */
export function relativeTime(ms: number | null, now: number = Date.now()): string {
  if (ms === null) return "never";
  const s = Math.floor((now - ms) / 1000);
  if (s < 60) return "just now";
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ago`;
  const days = Math.floor(h / 24);
  if (days < 30) return days === 1 ? "1 day ago" : `${days} days ago`;
  return `on ${shortTime(ms).slice(0, 10)}`;
}

/** Rows as columns two spaces apart; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, [...cell].length));
  }
  return rows.map((row) =>
    row.map((cell, i) =>
      i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - [...cell].length)
    ).join("  ").trimEnd()
  );
}

/** `roj chats`: name, unread, last message time and preview. */
export function chatLines(chats: readonly ChatView[]): string[] {
  if (chats.length === 0) return ["(no chats yet)"];
  return table(chats.map((c) => [
    escapeControl(c.name),
    c.unread > 0 ? `${c.unread} unread` : "",
    c.last ? shortTime(c.last.ts) : "",
    c.last
      ? (c.kind === "notes" ? "" : `${c.last.mine ? "you" : escapeControl(c.last.author)}: `) +
        preview(c.last.body)
      : "(no messages yet)",
  ]));
}

/** `roj contacts`: name, fingerprint, verified, online or offline, last seen, addresses. */
export function contactLines(contacts: readonly ContactView[], now: number = Date.now()): string[] {
  if (contacts.length === 0) return ["(no contacts yet; add one with `roj add <invite>`)"];
  return table(contacts.map((c) => [
    escapeControl(c.name),
    c.fingerprint,
    c.verified ? "verified" : "unverified",
    c.online ? "online" : "offline",
    c.online ? "seen now" : `seen ${relativeTime(c.lastSeen, now)}`,
    c.addresses.length ? c.addresses.map(escapeControl).join(", ") : "(no address known)",
  ]));
}

/** "1.2 MB": bytes for people. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** "climbers from bob: 4,000 of 10,000 entries (40%)". */
export function progressText(c: CatchUpView): string {
  const pct = c.total > 0 ? Math.floor((c.done * 100) / c.total) : 100;
  return `${escapeControl(c.chat)} from ${escapeControl(c.from)}: ${
    c.done.toLocaleString("en")
  } of ${c.total.toLocaleString("en")} entries (${pct}%)`;
}

/** The identity guard's state in one line (`roj status`, `roj identity status`), or null: nothing to say. */
export function identityText(v: StatusView["identity"]): string | null {
  if (v?.conflict) return escapeControl(v.conflict.message);
  if (v && v.rebasing.length > 0) {
    return `re-basing ${v.rebasing.map(escapeControl).join(", ")}: waiting for the contact's copy`;
  }
  if (v?.redo && v.redo.length > 0) {
    return `${v.redo.length} group change(s) of this node to re-do by hand: roj identity status`;
  }
  return null;
}

/** `roj status`. */
export function statusLines(s: StatusView): string[] {
  const identity = identityText(s.identity);
  return [
    `${escapeControl(s.name)} ${s.fingerprint}`,
    ...(identity ? [`identity: ${identity}`] : []),
    ...table([
      ["data:", s.dataDir],
      ["listening:", s.listen.length ? s.listen.join(", ") : "(not listening)"],
      ["contacts:", `${s.contacts} (${s.online} online)`],
      ...(s.passive
        ? [
          ["role:", "passive anchor (holds sealed records, runs no chats)"],
          ["members:", String(s.members ?? 0)],
          ["records held:", String(s.records ?? 0)],
          ["live sessions:", String(s.sessions ?? 0)],
          ...(s.mailbox
            ? [["group mail held:", `${s.mailbox.boxes} boxes, ${formatBytes(s.mailbox.bytes)}`]]
            : []),
          ...(s.groupFiles
            ? [["group files held:", `${s.groupFiles.files}, ${formatBytes(s.groupFiles.bytes)}`]]
            : []),
        ]
        : []),
      ...(s.carrying
        ? [[
          "1:1 mail carried:",
          `${s.carrying.boxes} boxes, ${
            formatBytes(s.carrying.bytes)
          } (for contacts; --no-carry: none)`,
        ]]
        : []),
      ...(s.reachable !== undefined
        ? [[
          "reachable:",
          s.reachable
            ? "yes (a peer dialled back)"
            : "no (behind NAT: contacts come through relays named in the record)",
        ]]
        : []),
      ...(s.nat
        ? [[
          "nat:",
          s.nat.mapping === "symmetric"
            ? "symmetric NAT (a new port per destination): no punched paths, contacts come through relays"
            : "keeps one UDP port for every destination (punched paths can work)",
        ]]
        : []),
      ...(s.relay
        ? [[
          "relaying:",
          s.relay.enabled
            ? `${s.relay.active} session(s) now, ${formatBytes(s.relay.bytes)} forwarded`
            : "off (--no-relay)",
        ]]
        : []),
      ...(s.portMap ? [["port mapping:", portMapText(s.portMap)]] : []),
      ...(s.agent
        ? [[
          "ssh-agent:",
          s.agent.available
            ? `signing (${escapeControl(s.agent.socket)})`
            : `gone: not signing, writes refused (${escapeControl(s.agent.reason ?? "")})`,
        ]]
        : []),
      ...(s.catchingUp ?? []).map((c) => [
        "catching up:",
        progressText(c),
      ]),
      ["version:", s.version],
    ]),
    ...(s.contacts > 0 && s.online === 0 && !s.passive ? ["", NOBODY_REACHABLE] : []),
  ];
}

/**
 * The router's port mapping in one line:
 * "UPnP-IGD 203.0.113.5:7022 (TCP, UDP) -> 192.168.1.20:7022, gateway 192.168.1.1, renewed 5 min ago, lease 1 h",
 * or "none (no UPnP-IGD gateway answered; …)", "off (--no-upnp)".
 */
export function portMapText(p: PortMapView, now: number = Date.now()): string {
  const why = p.reason ? ` (${escapeControl(p.reason)})` : "";
  if (p.state === "off") return `off${why}`;
  if (p.state === "searching") return "looking for a UPnP-IGD / NAT-PMP gateway";
  if (p.state === "none") return `none${why}`;
  const lease = p.leaseSeconds === undefined
    ? ""
    : p.leaseSeconds >= 3600 && p.leaseSeconds % 3600 === 0
    ? `, lease ${p.leaseSeconds / 3600} h`
    : `, lease ${p.leaseSeconds} s`;
  return `${p.method === "nat-pmp" ? "NAT-PMP" : "UPnP-IGD"} ${p.external ?? "?"} (${
    (p.protocols ?? []).join(", ").toUpperCase()
  }) -> ${p.internal ?? "?"}, gateway ${p.gateway ?? "?"}, renewed ${
    relativeTime(p.renewedAt ?? null, now)
  }${lease}${p.reason ? `; ${escapeControl(p.reason)}` : ""}`;
}

/** `roj peers`: each contact's reachability, path and how its address was learnt. */
export function peerLines(peers: readonly PeerView[], now: number = Date.now()): string[] {
  if (peers.length === 0) return ["(no contacts yet; add one with `roj add <invite>`)"];
  const lines = table([
    ["NAME", "STATE", "PATH", "ADDRESS FROM", "WHEN"],
    ...peers.map((p) => [
      escapeControl(p.name) + (p.kind === "anchor" ? " (anchor)" : ""),
      p.state,
      p.state === "connected" && p.path === "relayed"
        ? `relayed via ${escapeControl(p.via ?? "a relay")}`
        : p.state === "connected" && p.path === "punched"
        ? `punched (udp) ${escapeControl(p.address ?? "")}`
        : p.state === "connected" && p.path === "lan"
        ? `lan ${sessionAddress(p)}`
        : p.state === "connected" && p.address
        ? `direct ${sessionAddress(p)}`
        : p.address
        ? `last ${escapeControl(p.address)}`
        : "(no address known)",
      learntFrom(p.learnt),
      p.state === "connected"
        ? `since ${relativeTime(p.since, now)}`
        : `seen ${relativeTime(p.lastSeen, now)}`,
    ]),
  ]);
  if (!peers.some((p) => p.state === "connected")) lines.push("", NOBODY_REACHABLE);
  return lines;
}

/** What to do when no contact is reachable: the one step that restarts the cascade. */
export const NOBODY_REACHABLE =
  "nobody reachable: ask a friend for their current address, then `roj connect HOST:PORT`";

/**
 * Where a live session runs. When the peer dialled in, the port is a
 * temporary source port that says nothing: show the host, and that they dialled.
 */
function sessionAddress(p: PeerView): string {
  const address = escapeControl(p.address ?? "");
  if (!p.inbound) return address;
  const host = /^(\[[^\]]*\]|[^:]+):\d+$/.exec(p.address ?? "")?.[1];
  return host === undefined ? address : `${escapeControl(host)} (dialled in)`;
}

/** Who the address came from, in the "ADDRESS FROM" column: "them", "bob", "anchor hive", … */
function learntFrom(learnt: string): string {
  if (learnt === "direct") return "them";
  return escapeControl(learnt.startsWith("via ") ? learnt.slice(4) : learnt);
}
