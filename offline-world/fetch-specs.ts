/**
 * `npm run fetch-specs`: downloads Adobe's OpenAPI specs (flow-service, destinations, data-prep)
 * at the pinned revision, checks each sha256 and caches them outside git, where the stand-in finds
 * them (offline-world/specs.ts). Exits 0 without downloading when they are already available.
 */
import { ADOBE_SPECS, fetchSpecs, resolveSpecDir } from './specs';

async function main(): Promise<number> {
  const force = process.argv.includes('--force');
  if (!force) {
    try {
      const found = resolveSpecDir();
      console.log(`Adobe's specs are already available (${found.source}): ${found.dir}`);
      return 0;
    } catch {
      // Not found anywhere: download them.
    }
  }
  console.log(`Downloading Adobe's OpenAPI specs from ${ADOBE_SPECS.repository} at ${ADOBE_SPECS.revision}`);
  const dir = await fetchSpecs({ log: (line) => console.log(`  ${line}`) });
  console.log(`Cached in ${dir}; \`npm run demo\` and \`npm test\` now validate against them.`);
  return 0;
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(`fetch-specs FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
