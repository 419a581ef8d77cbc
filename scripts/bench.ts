/**
 * `deno task bench [section…]`: every benchmark, as tables of medians with the
 * baselines measured in the same run. Sections: log.
 */
import { printTable, type Row } from "./bench/_measure.ts";
import { benchLog } from "./bench/log_bench.ts";

const sections: Record<string, { title: string; run: () => Promise<Row[]> }> = {
  log: { title: "Log: sign, verify, append, merge (5 runs, medians)", run: benchLog },
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
