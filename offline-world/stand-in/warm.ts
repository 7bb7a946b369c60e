/**
 * Starts and stops one AEP stand-in. Its start parses Adobe's specs and compiles the contract
 * check's and the flow schemas' validators through the disk cache (validator-cache.ts), exactly as
 * a test file's stand-in does, so the jest workers that start together afterwards each read them
 * back instead of all compiling the same validators at once (measured: ~2 s of a 55 s jest run on
 * 2 cores with an empty cache). `.ci/run` runs it beside the library build, which keeps one core
 * busy. Same environment as the tests: AEP_CONTRACTS_DIR, AEP_VALIDATOR_CACHE.
 *
 * Run: `node -r ./test/jest/esbuild-register.js offline-world/stand-in/warm.ts`
 */
import { AepStandIn } from './aep';

async function main(): Promise<void> {
  const started = Date.now();
  const standIn = await AepStandIn.start();
  await standIn.close();
  console.log(`stand-in validators cached in ${Date.now() - started} ms`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
