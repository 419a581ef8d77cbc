// ssh2 ships no types; node/transport/ssh.ts declares the few shapes it uses.
// deno-lint-ignore no-explicit-any
declare const ssh2: any;
export default ssh2;
