/**
 * Guards the layout (DESIGN.md, "Layout"; STYLE.md, practice 10):
 * - node/ never imports the admin (routes/, islands/, hono, preact) or the CLI;
 * - only node/transport/ imports ssh2;
 * - cli/ and routes/ reach the node only through node/mod.ts;
 * - no production file (main.ts, cli/, node/, routes/, islands/) imports the test harness (testing/);
 * - node/ reads time, timers and protocol randomness only through node/clock/;
 * - no file under node/ is over 600 lines.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* tsFiles(path);
    else if (e.name.endsWith(".ts") || e.name.endsWith(".tsx")) yield path;
  }
}

function imports(source: string): string[] {
  return [
    ...source.matchAll(
      /(?:import|export)[^"';]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)/g,
    ),
  ]
    .map((m) => m[1] ?? m[2]!);
}

/** Every source file of these top-level folders (or files), relative to the root, with its text. */
async function sources(...roots: string[]): Promise<Array<{ rel: string; text: string }>> {
  const out: Array<{ rel: string; text: string }> = [];
  for (const r of roots) {
    const path = `${ROOT}${r}`;
    if ((await Deno.stat(path)).isFile) {
      out.push({ rel: r, text: await Deno.readTextFile(path) });
      continue;
    }
    for await (const file of tsFiles(path)) {
      out.push({ rel: file.slice(ROOT.length), text: await Deno.readTextFile(file) });
    }
  }
  return out;
}

/** The repository path an import of `spec` from `rel` names, or null for a package. */
function target(rel: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  return new URL(spec, `file:///${rel}`).pathname.slice(1);
}

Deno.test("node/ imports neither the admin nor the CLI, and only transport/ imports ssh2", async () => {
  const offences: string[] = [];
  for (const { rel, text } of await sources("node")) {
    for (const spec of imports(text)) {
      if (/(^|\/)(routes|islands|cli)\//.test(spec) || /^(npm:)?(hono|preact)/.test(spec)) {
        offences.push(`${rel} imports ${spec}`);
      }
      if (/^(npm:)?ssh2/.test(spec) && !rel.startsWith("node/transport/")) {
        offences.push(`${rel} imports ${spec}`);
      }
    }
  }
  assert.deepEqual(offences, []);
});

Deno.test("cli/ and routes/ import the node only through node/mod.ts; production code never imports testing/", async () => {
  const offences: string[] = [];
  for (const { rel, text } of await sources("main.ts", "cli", "routes", "islands", "node")) {
    const test = rel.endsWith("_test.ts") || rel.endsWith("_test.tsx");
    for (const spec of imports(text)) {
      const to = target(rel, spec);
      if (!to) continue;
      if (!test && to.startsWith("testing/")) offences.push(`${rel} imports the harness ${spec}`);
      if (
        !test && (rel.startsWith("cli/") || rel.startsWith("routes/")) &&
        to.startsWith("node/") && to !== "node/mod.ts"
      ) offences.push(`${rel} imports ${spec}, not node/mod.ts`);
    }
  }
  assert.deepEqual(offences, []);
});

Deno.test("node/ takes time, timers and protocol randomness only from node/clock/", async () => {
  const offences: string[] = [];
  // The globals, not a Clock's methods of the same name (clock.setTimeout).
  const forbidden =
    /(?<![\w.])(Date\.now\(\)|Math\.random\(\)|setTimeout\(|setInterval\(|performance\.now\(\))/g;
  for (const { rel, text } of await sources("node")) {
    if (rel.startsWith("node/clock/") || rel.endsWith("_test.ts")) continue;
    // Comments may name them (this very rule is explained in some).
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    // A Clock implementation declares methods of those names: `setTimeout(fn: …): TimerId {`.
    const calls = code.replace(/^\s*(setTimeout|setInterval)\(.*\)\s*:\s*\w+\s*\{\s*$/gm, "");
    for (const m of calls.matchAll(forbidden)) offences.push(`${rel}: ${m[1]}`);
  }
  assert.deepEqual(offences, []);
});

Deno.test("no file under node/ is over 600 lines", async () => {
  const long = (await sources("node"))
    .map(({ rel, text }) => ({ rel, lines: text.split("\n").length - 1 }))
    .filter((f) => f.lines > 600)
    .map((f) => `${f.rel}: ${f.lines} lines`);
  assert.deepEqual(long, []);
});
