/**
 * Records whose values are built on first read. A zod schema costs a few KB
 * of heap (each instance carries its own methods), and a node that idles
 * never parses most methods: building each method's schemas when it is first
 * checked keeps ~1,000 schema objects off the heap of an idle node.
 */

/**
 * An object with `builds`' keys (enumerable, own, in order) whose each value
 * is `builds[key]()`, called on the key's first read and kept.
 */
export function lazyEntries<T extends Record<string, () => unknown>>(
  builds: T,
): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const out = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const key of Object.keys(builds) as (keyof T & string)[]) {
    Object.defineProperty(out, key, {
      enumerable: true,
      configurable: true,
      get() {
        const value = builds[key]!() as ReturnType<T[typeof key]>;
        Object.defineProperty(out, key, { value, enumerable: true, writable: false });
        return value;
      },
    });
  }
  return out;
}
