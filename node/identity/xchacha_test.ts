import assert from "node:assert/strict";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { seededRandom, testSeed } from "../../testing/temp.ts";
import { openXChaCha20Poly1305, XCHACHA_NATIVE } from "./xchacha.ts";

Deno.test("xchacha: opens what @noble/ciphers seals, at every size; refuses any change", () => {
  assert.ok(XCHACHA_NATIVE, "Deno's node:crypto has chacha20-poly1305");
  const seed = testSeed("xchacha");
  const rand = seededRandom(seed);
  for (const size of [0, 1, 15, 16, 63, 64, 65, 1000, 65_536]) {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const nonce = crypto.getRandomValues(new Uint8Array(24));
    const aad = crypto.getRandomValues(new Uint8Array(Math.floor(rand() * 80)));
    const plain = crypto.getRandomValues(new Uint8Array(size));
    // Unaligned views, as boxes cut out of a frame are.
    const at = (b: Uint8Array) => {
      const buf = new Uint8Array(b.length + 3);
      buf.set(b, 3);
      return buf.subarray(3);
    };
    const sealed = xchacha20poly1305(key, nonce, aad).encrypt(plain);
    assert.deepEqual(openXChaCha20Poly1305(at(key), at(nonce), at(aad), at(sealed)), plain);
    const flip = (b: Uint8Array, i: number) => {
      const c = b.slice();
      c[i]! ^= 1;
      return c;
    };
    const i = Math.floor(rand() * sealed.length);
    assert.throws(() => openXChaCha20Poly1305(key, nonce, aad, flip(sealed, i)), `seed ${seed}`);
    assert.throws(() => openXChaCha20Poly1305(key, flip(nonce, 20), aad, sealed));
    assert.throws(() => openXChaCha20Poly1305(key, flip(nonce, 3), aad, sealed));
    assert.throws(() => openXChaCha20Poly1305(flip(key, 0), nonce, aad, sealed));
    assert.throws(() => openXChaCha20Poly1305(key, nonce, new Uint8Array([...aad, 0]), sealed));
  }
  assert.throws(() =>
    openXChaCha20Poly1305(
      new Uint8Array(32),
      new Uint8Array(24),
      new Uint8Array(),
      new Uint8Array(15),
    )
  );
});
