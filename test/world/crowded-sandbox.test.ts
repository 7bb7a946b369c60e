/**
 * The crowded sandbox of issue 19 (AepStandIn.crowd): thousands of foreign S3 destinations made in
 * the UI, each with its audience export (Profile Store source connection + flow), which every list
 * pages at 100 as Flow Service does, behind any object a client creates next.
 */
import { AepStandIn } from '../../offline-world/stand-in/aep';
import { AepIds, DataflowIds } from '../../src/private/contract';

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

/** Item counts of every page of a list, following `_links.next`. */
async function pageSizes(first: string): Promise<number[]> {
  const pages: number[] = [];
  let next: string | undefined = first;
  while (next) {
    const page: any = await get(next);
    pages.push(page.items.length);
    expect(page.items.every((c: { description?: string }) => !c.description?.includes('[cdk-aep-s3'))).toBe(true);
    const href: string | undefined = page._links?.next?.href;
    next = href ? href.substring(href.indexOf('/flowservice') + '/flowservice'.length) : undefined;
  }
  return pages;
}

test('the crowd exports audiences too: a Profile Store source connection and an audience flow per destination, every list 100 a page', async () => {
  aep.reset();
  aep.crowd(250);
  expect(aep.sourceConnections()).toHaveLength(250);
  expect(aep.flows()).toHaveLength(250);
  for (const collection of ['connections', 'targetConnections', 'sourceConnections', 'flows']) {
    expect(await get(`/${collection}?count=true`)).toEqual({ count: 250 });
    expect(await pageSizes(`/${collection}`)).toEqual([100, 100, 50]);
  }
  const profiles = encodeURIComponent(`connectionSpec.id==${DataflowIds.PROFILE_STORE_SOURCE_SPEC}`);
  expect(await pageSizes(`/sourceConnections?property=${profiles}`)).toEqual([100, 100, 50]);
  const target = aep.targetConnections()[7];
  const flows = (await get(`/flows?property=${encodeURIComponent(`targetConnectionIds[]==${target.id}`)}`)).items;
  expect(flows).toHaveLength(1);
  expect(flows[0].flowSpec.id).toBe(DataflowIds.S3_AUDIENCE_FLOW_SPEC);
  const source = aep.sourceConnections().find((s) => s.id === flows[0].sourceConnectionIds[0]);
  expect(source?.connectionSpec.id).toBe(DataflowIds.PROFILE_STORE_SOURCE_SPEC);
  expect(flows[0].transformations[0].params.segmentSelectors.selectors).toHaveLength(3);
  expect(aep.contractViolations()).toEqual([]);
  expect(aep.validationFailures).toEqual([]);
});
