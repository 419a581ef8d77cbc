/**
 * `deno task build`: bundles the admin's islands for the browser into
 * static/islands.js, stamped with a digest of islands/, so that a node serves
 * them without run permission and a compiled binary can embed them. Does
 * nothing when the file already matches the sources (the tasks run it before
 * every start).
 */
// assets.ts directly, not routes/mod.ts: this runs before every start and needs none of the admin.
import {
  bundleIslands,
  islandsSourceHash,
  prebuiltIslands,
  stampBundle,
} from "../routes/assets.ts";

const OUT = new URL("../static/islands.js", import.meta.url);

/** Writes static/islands.js unless it is current; says which it did. */
export async function buildIslands(): Promise<"built" | "up to date"> {
  if ("body" in await prebuiltIslands(OUT)) return "up to date";
  const hash = await islandsSourceHash();
  const stamped = stampBundle(await bundleIslands(), hash);
  // Write aside and rename: a node starting meanwhile never reads half a file.
  const tmp = new URL(`../static/.islands.js.${Deno.pid}.tmp`, import.meta.url);
  await Deno.writeFile(tmp, stamped);
  await Deno.rename(tmp, OUT);
  return "built";
}

if (import.meta.main) {
  try {
    const done = await buildIslands();
    if (done === "built") console.error("build: static/islands.js written");
  } catch (err) {
    console.error(`build: ${(err as Error).message}`);
    Deno.exit(1);
  }
}
