/**
 * The crowded sandbox of issue 19 (AepStandIn.crowd): thousands of foreign S3 destinations made in
 * the UI, which lists page at 100 as Flow Service does, behind any object a client creates next.
 */
import { AepStandIn } from '../../offline-world/stand-in/aep';
import { AepIds } from '../../src/private/contract';

let aep: AepStandIn;
beforeAll(async () => {
  aep = await AepStandIn.start();
});
afterAll(async () => aep.close());

async function get(path: string): Promise<any> {
  const res = await fetch(`${aep.flowServiceUrl}${path}`, { headers: aep.flowServiceHeaders(aep.issueToken()) });
  expect(res.status).toBe(200);
  return res.json();
}

test('a crowd of 250 foreign destinations: base + target each, listed 100 a page, newest first, no adoption marker', async () => {
  aep.reset();
  aep.crowd(250);
  expect(aep.connections()).toHaveLength(250);
  expect(aep.targetConnections()).toHaveLength(250);
  expect(await get('/connections?count=true')).toEqual({ count: 250 });
  const spec = encodeURIComponent(`connectionSpec.id==${AepIds.S3_DESTINATION_CONNECTION_SPEC}`);
  const pages: number[] = [];
  let next: string | undefined = `/connections?property=${spec}`;
  while (next) {
    const page: any = await get(next);
    pages.push(page.items.length);
    expect(page.items.every((c: { description?: string }) => !c.description?.includes('[cdk-aep-s3'))).toBe(true);
    const href: string | undefined = page._links?.next?.href;
    next = href ? href.substring(href.indexOf('/connections')) : undefined;
  }
  expect(pages).toEqual([100, 100, 50]);
  const first = (await get('/connections')).items[0];
  expect(first.name).toBe('ui-export-249');
  const target = aep.targetConnections().find((t) => t.baseConnectionId === first.id);
  expect(target?.params).toEqual(expect.objectContaining({ bucketName: 'ui-exports' }));
  expect(aep.contractViolations()).toEqual([]);
});
