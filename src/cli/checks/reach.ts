import { promises as dns } from 'node:dns';
import * as net from 'node:net';
import { CannotAuthenticate, hostOf, networkMeaning, reachAdvice } from './failures';

/**
 * One TCP connect to each AEP host before any request: a refused port or a name that does not
 * resolve ends the run at once naming the host, instead of after every retry of every call.
 * Skipped behind a proxy (axios goes through it; a direct connect would prove nothing).
 */
export async function checkReachable(
  hosts: ReadonlyArray<{ readonly label: string; readonly url: string; readonly flag: string }>,
  env: Record<string, string | undefined>, timeoutMs: number,
): Promise<void> {
  if (env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy) return;
  for (const { label, url, flag } of hosts) {
    const u = new URL(url);
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const code = await connectError(u.hostname.replace(/^\[(.*)\]$/, '$1'), port, timeoutMs);
    if (code) {
      throw new CannotAuthenticate(`cannot reach ${label} at ${hostOf(url)}: ${networkMeaning(code)} (${code}); ${reachAdvice(flag)}`);
    }
  }
}

/** The error code of one connect attempt, or undefined when it connected. */
async function connectError(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  if (!net.isIP(host)) {
    try {
      await Promise.race([
        dns.lookup(host),
        new Promise((_, reject) => setTimeout(() => reject(Object.assign(new Error('lookup timed out'), { code: 'EAI_AGAIN' })), timeoutMs).unref()),
      ]);
    } catch (err) {
      return (err as { code?: string }).code ?? 'ENOTFOUND';
    }
  }
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (code: string | undefined) => {
      socket.destroy();
      resolve(code);
    };
    socket.setTimeout(timeoutMs, () => done('ETIMEDOUT'));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? 'ECONNREFUSED'));
  });
}
