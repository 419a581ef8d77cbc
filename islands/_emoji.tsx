/**
 * Emoji in peer text, wrapped so that they get the emoji font first
 * (`.emoji` in static/style.css). Left to the end of the page's font list,
 * Chromium drew them as empty boxes until something relaid the text out
 * (it does not redo a fallback it settled while the font was loading); as
 * the first font of their own span they show as soon as it is in.
 * `\p{RGI_Emoji}` matches whole emoji, with skin tones, ZWJ sequences, flags
 * and keycaps, and nothing else (not digits or ©).
 */
import type { ComponentChildren } from "preact";

const EMOJI = /(?:\p{RGI_Emoji})+/gv;

const ONLY_EMOJI = /^\s*(?:\p{RGI_Emoji}\s*){1,3}$/v;

/** One to three emoji and nothing else: shown large, as messengers do. */
export function onlyEmoji(text: string): boolean {
  return ONLY_EMOJI.test(text);
}

/** `text` with each run of emoji in a `<span class="emoji">`. */
export function Emojied({ text }: { text: string }): ComponentChildren {
  const out: ComponentChildren[] = [];
  let at = 0;
  for (const m of text.matchAll(EMOJI)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(<span class="emoji" key={m.index}>{m[0]}</span>);
    at = m.index + m[0].length;
  }
  if (at === 0) return text;
  if (at < text.length) out.push(text.slice(at));
  return out;
}
