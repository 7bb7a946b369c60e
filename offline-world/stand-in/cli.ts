/**
 * Runs both stand-ins as a process for the offline demo:
 *
 *   npx ts-node --project tsconfig.dev.json offline-world/stand-in/cli.ts
 *
 * Prints ONE JSON line on stdout — `{ aep: {...}, aws: {...} }` with the URLs, the fake AEP test
 * credentials and the AWS environment — then stays up until SIGTERM/SIGINT. Request logs (secrets
 * redacted) go to stderr so stdout stays machine-readable.
 */
import { AepStandIn } from './aep';
import { AwsStandIn } from './aws';

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const aep = await AepStandIn.start({ log });
  const aws = await AwsStandIn.start({ log });
  process.stdout.write(`${JSON.stringify({
    aep: {
      baseUrl: aep.baseUrl,
      imsUrl: aep.imsUrl,
      flowServiceUrl: aep.flowServiceUrl,
      credentials: aep.credentials,
      schemaValidation: aep.schemaValidation,
    },
    aws: { url: aws.url, env: aws.env() },
  })}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    log(`[stand-in] ${signal}: shutting down`);
    Promise.all([aep.close(), aws.close()]).then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`stand-in failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
