/**
 * The sender's thumbnail of its own image (jimp, pure JS): a JPEG that fits
 * THUMB_BOX pixels and THUMB_BYTES, carried in the signed file entry itself.
 * Only the sender decodes (its own file); a receiver never decodes a peer's
 * image: the admin hands the bytes to the browser. Big images get none, so
 * that decoding cannot take much memory.
 */

/** Longest side of a thumbnail, in pixels. */
export const THUMB_BOX = 320;
/** Largest thumbnail kept (its base64 must leave room in the 64 KiB entry body). */
export const THUMB_BYTES = 32 * 1024;
/** Images larger than this get no thumbnail (decoding one holds its pixels). */
export const MAX_THUMB_SOURCE = 16 * 1024 * 1024;
/** Types the sender makes thumbnails of. */
const DECODABLE = new Set(["image/jpeg", "image/png", "image/gif", "image/bmp"]);

/** The little of jimp used here. */
interface JimpApi {
  read(data: ArrayBuffer): Promise<{
    readonly width: number;
    readonly height: number;
    scaleToFit(box: { w: number; h: number }): void;
    getBuffer(type: "image/jpeg", options: { quality: number }): Promise<Uint8Array>;
  }>;
}

/** JPEG bytes start so (what the admin checks before it serves a thumbnail). */
export function isJpeg(b: Uint8Array): boolean {
  return b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** A thumbnail of the image at `path`, or null (not an image we decode, too big, or it failed). */
export async function makeThumbnail(
  path: string,
  type: string,
  size: number,
): Promise<Uint8Array | null> {
  if (!DECODABLE.has(type) || size > MAX_THUMB_SOURCE) return null;
  try {
    // Named at run time so that the type checker does not load jimp's types,
    // which bring @types/node's globals (timers, Buffer) into the whole node.
    const specifier = "jimp";
    const { Jimp } = await import(specifier) as { Jimp: JimpApi };
    const img = await Jimp.read((await Deno.readFile(path)).buffer);
    if (img.width * img.height > 40_000_000) return null;
    img.scaleToFit({ w: THUMB_BOX, h: THUMB_BOX });
    for (const quality of [70, 50, 30]) {
      const jpg = new Uint8Array(await img.getBuffer("image/jpeg", { quality }));
      if (jpg.length <= THUMB_BYTES && isJpeg(jpg)) return jpg;
    }
    return null;
  } catch {
    return null;
  }
}
