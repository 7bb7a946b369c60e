import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import axios from 'axios';
import { AepIds } from '../src/private/contract';

/**
 * The stand-ins also run as a process (`npm run stand-in`), for the demo or a manual session:
 * one JSON line on stdout with the URLs and test credentials, real HTTP, clean exit on SIGTERM.
 */
const ROOT = path.resolve(__dirname, '..');
let child: ChildProcess;
let info: any;

beforeAll(async () => {
  // As `npm run stand-in` starts it: TypeScript through the esbuild register (transpile only).
  child = spawn(process.execPath, ['-r', path.join(ROOT, 'test/jest/esbuild-register.js'), 'offline-world/stand-in/cli.ts'], {
    cwd: ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  info = await new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const newline = buffer.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(buffer.substring(0, newline)));
    });
    child.once('exit', (code) => reject(new Error(`stand-in exited early with ${code}`)));
  });
}, 60_000);

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

test('prints where it listens, serves IMS and Flow Service over HTTP, and stops on SIGTERM', async () => {
  expect(info.aep.flowServiceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/data\/foundation\/flowservice$/);
  expect(info.aws.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);

  const { clientId, clientSecret, orgId } = info.aep.credentials;
  const token = await axios.post(`${info.aep.imsUrl}/ims/token/v3`, new URLSearchParams({
    grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: 'openid,AdobeID',
  }).toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const headers = {
    'authorization': `Bearer ${token.data.access_token}`,
    'x-api-key': clientId,
    'x-gw-ims-org-id': orgId,
    'x-sandbox-name': 'prod',
    'content-type': 'application/json',
  };
  const created = await axios.post(`${info.aep.flowServiceUrl}/connections`, {
    name: 'cli-check',
    auth: { specName: 'IAMRole Based', params: { bucketName: 'acme-aep-inbound' } },
    connectionSpec: { id: AepIds.S3_SOURCE_CONNECTION_SPEC, version: '1.0' },
  }, { headers });
  expect(created.status).toBe(201);
  const read = await axios.get(`${info.aep.flowServiceUrl}/connections/${created.data.id}`, { headers });
  expect(read.data.items[0].name).toBe('cli-check');

  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exit).toBe(0);
});
