/// <reference lib="dom" />
/** The browser side of the JSON API: POST /api/<method>. */

/**
 * Calls one API method.
 * @throws {Error} with the node's one-line message when it answers with an error.
 */
export async function callApi<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(params),
      credentials: "same-origin",
    });
  } catch {
    throw new Error("the node did not answer; is it still running?");
  }
  const body = await res.json().catch(() => null) as
    | { error?: { code?: string; message?: string } }
    | null;
  if (!res.ok || (body && typeof body === "object" && "error" in body && body.error)) {
    throw new Error(body?.error?.message ?? `request failed (HTTP ${res.status})`);
  }
  return body as T;
}
