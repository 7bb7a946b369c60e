/**
 * Simulated Lambda containers share nothing a real container would not: each has its own HTTP
 * connection pool (loadContainerModule in offline-world/cloudformation/lambda.ts). Through Node's
 * process-wide agent, every container's axios (a fresh module instance each) added its own 'error'
 * listener to the same pooled keep-alive socket, and past ten containers Node printed
 * MaxListenersExceededWarning in the middle of green test runs (scenarios run every invocation
 * in a cold container).
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { loadContainerModule } from '../../offline-world/cloudformation/lambda';

test('twelve containers\' axios against one server: no shared socket, so no listener piles up on one', async () => {
  const peers = new Set<number>();
  const server = http.createServer((req, res) => {
    peers.add(req.socket.remotePort ?? 0);
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const axiosFile = require.resolve('axios/dist/node/axios.cjs');
    for (let i = 0; i < 12; i++) {
      const axios = loadContainerModule(axiosFile, path.dirname(axiosFile));
      // As the handler sends (src/aep/http.ts): native transport, no redirects.
      expect((await axios.get(url, { maxRedirects: 0 })).status).toBe(200);
    }
    // One connection per container: none reused a socket another container opened (with the
    // process-wide agent all twelve used one socket, which then carried twelve 'error' listeners).
    expect(peers.size).toBe(12);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
