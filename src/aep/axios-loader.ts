// Inlined into the Lambda bundle by esbuild; the lint allow-list for bundled dev dependencies names only the entry file.
// eslint-disable-next-line import/no-extraneous-dependencies
import type { AxiosStatic } from 'axios';

/**
 * axios, loaded without waking Node's fetch implementation. When the module loads, axios's fetch
 * adapter probes the globals `Request`, `Response` and `ReadableStream`, and its form helpers `FormData`; in Node
 * these are lazy getters that load undici and web streams, ~65 ms of every cold start (2/3 of the handler bundle's
 * `require`), although the handler and the CLI only ever use axios's http adapter and never send
 * forms. While axios loads, the four read as undefined (axios then keeps a fetch adapter without
 * streams, which nothing here selects); their own descriptors are put back right after, untouched,
 * also when the load throws, for code that does use fetch (the IAM query).
 */
function loadAxios(): AxiosStatic {
  const probed = ['Request', 'Response', 'FormData', 'ReadableStream'].map((name) => [name, Object.getOwnPropertyDescriptor(globalThis, name)] as const);
  for (const [name, descriptor] of probed) {
    if (descriptor?.configurable) Object.defineProperty(globalThis, name, { value: undefined, configurable: true, writable: true });
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
    const loaded = require('axios');
    return (loaded.default ?? loaded) as AxiosStatic;
  } finally {
    for (const [name, descriptor] of probed) {
      if (descriptor?.configurable) Object.defineProperty(globalThis, name, descriptor);
    }
  }
}

/** The axios module (http adapter). */
export const axios = loadAxios();
