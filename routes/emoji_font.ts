/**
 * Emoji that render everywhere: Noto Color Emoji from @fontsource, served by
 * the admin itself (font-src 'self'; no CDN). The package's whole-font file
 * is used, not its unicode-range subsets: those carry the colour glyphs only
 * as OpenType-SVG, which Chromium does not draw (it showed empty boxes), while
 * the whole font has COLR tables too (Chromium, Firefox) beside SVG (Safari).
 * It is 5.6 MiB, fetched only by a page whose text some earlier font cannot
 * show (static/style.css names it last), and kept by the browser for a week.
 * Machines with an emoji font of their own (macOS, Windows, most desktops)
 * use theirs first. The file is imported as bytes on its first request, so a
 * node that never shows its admin never loads it, and `deno compile` embeds it.
 */

const FILE = "noto-color-emoji.woff2";

const CSS = `/* Noto Color Emoji (SIL Open Font License 1.1), from @fontsource/noto-color-emoji */
@font-face {
  font-family: "Noto Color Emoji";
  font-style: normal;
  font-weight: 400;
  font-display: swap;
  src: url(/static/${FILE}) format("woff2");
}
`;

interface EmojiAsset {
  body: Uint8Array;
  type: string;
  cache?: string;
}

/** The admin's emoji files by their name under /static/. */
export function emojiAssets(): Record<string, () => Promise<EmojiAsset>> {
  const sheet = new TextEncoder().encode(CSS);
  return {
    "emoji.css": () => Promise.resolve({ body: sheet, type: "text/css; charset=utf-8" }),
    [FILE]: async () => {
      const font = await import(
        "@fontsource/noto-color-emoji/files/noto-color-emoji-emoji-400-normal.woff2",
        { with: { type: "bytes" } }
      );
      return { body: font.default, type: "font/woff2", cache: "max-age=604800" };
    },
  };
}
