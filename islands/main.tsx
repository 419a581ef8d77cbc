/// <reference lib="dom" />
/**
 * The browser entry, bundled by `deno bundle --platform browser` when the
 * admin starts: hydrates each server-rendered island with its props.
 */
import { h, hydrate } from "preact";
import { islands } from "./registry.ts";
import { installGlobalKeys } from "./_keys.ts";

installGlobalKeys();

for (const el of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const component = islands[el.dataset.island ?? ""];
  if (!component) continue;
  let props: Record<string, unknown> = {};
  try {
    props = JSON.parse(el.dataset.props ?? "{}");
  } catch {
    continue;
  }
  hydrate(h(component, props), el);
}
