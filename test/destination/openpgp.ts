/**
 * openpgp 6 for CommonJS tests: the package ships a CommonJS build under its `require`
 * condition, but its type declarations are ESM-only, so `import * as openpgp` fails type-checking
 * under `module: node16` (TS1479). Types come from the ESM view, the value from the CJS build.
 */
import type * as OpenPgp from 'openpgp' with { 'resolution-mode': 'import' };

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const openpgp: typeof OpenPgp = require('openpgp');
