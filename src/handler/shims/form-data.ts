/**
 * Bundle-time replacement for `form-data` (aliased in .projenrc.ts).
 *
 * axios's Node adapter imports form-data (with mime-db and a dozen polyfills, ~170 KB minified)
 * only to build multipart bodies. The handler sends JSON and form-encoded strings, never
 * multipart, so an empty class keeps axios's `instanceof FormData` checks false and the bundle
 * small. If a multipart body is ever attempted, fail loudly rather than send something wrong.
 */
export default class FormData {
  constructor() {
    throw new Error('multipart bodies are not supported by the cdk-aep-s3 handler bundle');
  }
}
