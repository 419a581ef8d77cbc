/// <reference lib="dom" />
/**
 * Bytes from the admin shown through a blob: URL: fetched same-origin with
 * the session cookie, wrapped in an object URL, and revoked as soon as the
 * element that shows it is gone (or asks for other bytes), so no decoded
 * image outlives its view. The CSP allows `img-src 'self' blob:` for this.
 */
import { useEffect, useState } from "preact/hooks";

/** The object URL for `path`'s bytes once fetched; null before, on failure, or for a null path. */
export function useBlobUrl(path: string | null): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (path === null) return;
    let gone = false;
    let made: string | null = null;
    fetch(path, { credentials: "same-origin" })
      .then((res) => res.ok ? res.blob() : Promise.reject(new Error(`HTTP ${res.status}`)))
      .then((blob) => {
        if (gone) return;
        made = URL.createObjectURL(blob);
        setUrl(made);
      })
      .catch(() => {});
    return () => {
      gone = true;
      if (made !== null) URL.revokeObjectURL(made);
      setUrl(null);
    };
  }, [path]);
  return url;
}
