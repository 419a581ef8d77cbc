/**
 * `deno task bench [section…]`: every benchmark, as tables of medians with the
 * baselines measured in the same run. Sections: log, chat, cascade, group, relay, nat, search, files, wan,
 * memory, anchor, devsync. `deno task bench devsync` runs one section alone.
 */
import { printTable, type Row } from "./bench/_measure.ts";
import { benchAnchor } from "./bench/anchor_bench.ts";
import { benchCascade } from "./bench/cascade_bench.ts";
import { benchChat } from "./bench/chat_bench.ts";
import { benchDevsync } from "./bench/devsync_bench.ts";
import { benchFiles } from "./bench/files_bench.ts";
import { benchGroup } from "./bench/group_bench.ts";
import { benchLog } from "./bench/log_bench.ts";
import { benchMemory } from "./bench/memory_bench.ts";
import { benchNat } from "./bench/nat_bench.ts";
import { benchRelay } from "./bench/relay_bench.ts";
import { benchSearch } from "./bench/search_bench.ts";
import { benchWan } from "./bench/wan_bench.ts";

const sections: Record<string, { title: string; run: () => Promise<Row[]> }> = {
  log: { title: "Log: sign, verify, append, merge (5 runs, medians)", run: benchLog },
  chat: {
    title: "Chat: delivery latency and catch-up between two nodes over loopback SSH",
    run: benchChat,
  },
  cascade: {
    title:
      "Cascade: every person of a hive moves at once (2 anchors, 8 contacts each), until every pair is back",
    run: benchCascade,
  },
  group: {
    title:
      "Groups: fan-out to 20 members (full mesh, via the anchor only) and catch-up of 10,000 entries, with the 1:1 baseline",
    run: benchGroup,
  },
  relay: {
    title:
      "Relay: delivery latency and burst rate, direct vs through an anchor that splices the SSH session (loopback)",
    run: benchRelay,
  },
  nat: {
    title: "NAT: 1:1 delivery over a punched path (SSH inside QUIC) against direct, over loopback",
    run: benchNat,
  },
  search: {
    title: "Search: queries over 100,000 messages, index build, rebuild at start",
    run: benchSearch,
  },
  files: {
    title:
      "Files: one file direct, relayed, to a group of 5, and resumed after kill -9 (vs bare ssh2)",
    run: benchFiles,
  },
  wan: {
    title:
      "WAN: the cascade of 30 behind doors adding 40 ms round trips, against 0 ms doors (one run)",
    run: benchWan,
  },
  anchor: {
    title:
      "Anchor: 10,000 members and 100,000 sealed copies, beside 100 and 1,000 (one process each)",
    run: benchAnchor,
  },
  devsync: {
    title:
      "Devices: a phone's sync of its laptop's entries over their sibling session, against 1:1 catch-up",
    run: benchDevsync,
  },
  memory: {
    title: "Memory: RSS of idle and busy `roj run` processes, with bare deno",
    run: benchMemory,
  },
};

const wanted = Deno.args.length > 0 ? Deno.args : Object.keys(sections);
for (const name of wanted) {
  const section = sections[name];
  if (!section) {
    console.error(`bench: unknown section ${name}; known: ${Object.keys(sections).join(", ")}`);
    Deno.exit(2);
  }
  printTable(section.title, await section.run());
}
