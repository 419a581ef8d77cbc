/**
 * The files the admin serves itself (no CDN): the stylesheet, an icon, and the
 * islands bundled for the browser. The bundle is built ahead of time by
 * `deno task build` (scripts/build_islands.ts) into static/islands.js, which
 * the tasks run first and `deno task compile` embeds, so a node needs no run
 * permission. Only where that file is missing or older than islands/ (someone
 * edited an island and ran main.ts directly) does the admin bundle in memory
 * with the running deno, which needs run permission for it; without that the
 * pages still work, without live parts, and the node logs why.
 */
import { fileURLToPath } from "node:url";
import { emojiAssets } from "./emoji_font.ts";

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">` +
  `<polygon points="16,2 28,9 28,23 16,30 4,23 4,9" fill="#d4a017" stroke="#5c4400" stroke-width="2"/>` +
  `</svg>`;

export interface Asset {
  readonly body: Uint8Array;
  readonly type: string;
  /** Cache-Control, where not "no-cache" (the emoji font, which never changes). */
  readonly cache?: string;
}

export interface Assets {
  /** By path under /static/; the islands bundle may still be building. */
  get(path: string): Promise<Asset | undefined>;
  /** Starts bundling the islands if it has not started. */
  warm(): void;
}

const here = (rel: string) => new URL(rel, import.meta.url);

// One bundle per process: it depends only on the files in islands/, and many admins
// (tests) share it. A failed build is forgotten so that the next start tries again.
let bundling: Promise<Uint8Array> | undefined;

/** The first line of a built bundle: which island sources it was built from. */
const HEADER = /^\/\/ roj islands sha256:([0-9a-f]{64})\n/;

/** A digest of every file under islands/ (names and contents), to tell a stale bundle. */
export async function islandsSourceHash(dir: URL = here("../islands/")): Promise<string> {
  const names = (await Array.fromAsync(Deno.readDir(dir)))
    .filter((e) => e.isFile && /\.tsx?$/.test(e.name))
    .map((e) => e.name)
    .sort();
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const name of names) {
    const body = await Deno.readFile(new URL(name, dir));
    parts.push(enc.encode(`${name}\0${body.length}\0`), body);
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Prefixes a bundle with the header naming the sources it was built from. */
export function stampBundle(bundle: Uint8Array, sourceHash: string): Uint8Array {
  const head = new TextEncoder().encode(`// roj islands sha256:${sourceHash}\n`);
  const out = new Uint8Array(head.length + bundle.length);
  out.set(head);
  out.set(bundle, head.length);
  return out;
}

/**
 * The bundle `deno task build` left in static/, if it was built from the islands
 * as they are now. Where islands/ cannot be read (a compiled binary holds only
 * the bundle), the bundle is all there is and is trusted.
 */
export async function prebuiltIslands(
  file: URL = here("../static/islands.js"),
  sources: URL = here("../islands/"),
): Promise<{ body: Uint8Array } | { stale: string }> {
  let body: Uint8Array;
  try {
    body = await Deno.readFile(file);
  } catch {
    return { stale: "static/islands.js is missing" };
  }
  const built = HEADER.exec(new TextDecoder().decode(body.subarray(0, 100)))?.[1];
  if (!built) return { stale: "static/islands.js has no source header" };
  const now = await islandsSourceHash(sources).catch(() => null);
  if (now !== null && now !== built) return { stale: "static/islands.js is older than islands/" };
  return { body };
}

/** Bundles islands/main.tsx for the browser with the running deno. */
export function bundleIslands(): Promise<Uint8Array> {
  bundling ??= (async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--minify",
        "--config",
        fileURLToPath(here("../deno.json")),
        fileURLToPath(here("../islands/main.tsx")),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!out.success || out.stdout.length === 0) {
      const why = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" / ");
      throw new Error(`deno bundle failed: ${why || `exit ${out.code}`}`);
    }
    return out.stdout;
  })();
  bundling.catch(() => (bundling = undefined));
  return bundling;
}

/**
 * Loads the stylesheet. The islands are read (or, failing that, bundled) on the
 * first request; `log` hears if neither works.
 */
export async function loadAssets(log: (line: string) => void): Promise<Assets> {
  const style = await Deno.readFile(here("../static/style.css"));
  let script: Promise<Asset | undefined> | undefined;
  const files: Record<string, () => Asset | Promise<Asset | undefined>> = {
    "style.css": () => ({ body: style, type: "text/css; charset=utf-8" }),
    "icon.svg": () => ({ body: new TextEncoder().encode(ICON), type: "image/svg+xml" }),
    ...emojiAssets(),
    "islands.js": () =>
      script ??= (async (): Promise<Asset | undefined> => {
        const type = "text/javascript; charset=utf-8";
        const built = await prebuiltIslands();
        if ("body" in built) return { body: built.body, type };
        try {
          return { body: await bundleIslands(), type };
        } catch (err) {
          log(
            `admin: ${built.stale} and bundling it here failed (${
              (err as Error).message
            }); pages work, but without live updates. Run \`deno task build\`.`,
          );
          return undefined;
        }
      })(),
  };
  return {
    get: (path) => Promise.resolve(Object.hasOwn(files, path) ? files[path]!() : undefined),
    warm: () => void files["islands.js"]!(),
  };
}
