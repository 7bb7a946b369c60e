/**
 * The access-key cleanup resource against the IAM stand-in: Create and Update call nothing; a
 * Delete deletes the keys still on the user, so that IAM's DeleteUser, which refuses a user with
 * keys, succeeds, but only while the user carries the cleanup tag (the template drops it with
 * keyLifecycle, before CloudFormation deletes the removed cleanup resource).
 */
import { cfnEvent, rejectionOf, useHarness } from './harness';
import { handler } from '../../src/handler/aep.lambda';
import { ACCESS_KEY_CLEANUP_TAG, AccessKeyCleanupProps, ResourceTypes } from '../../src/private/contract';

const h = useHarness();
const USER = 'Dest-ExportsAuthAccessKeyUser-ABC123';
const props = (userName = USER) => ({ [AccessKeyCleanupProps.USER_NAME]: userName });
const event = (type: 'Create' | 'Update' | 'Delete', userName = USER, physicalId?: string, oldUserName?: string) => cfnEvent(type, props(userName), {
  resourceType: ResourceTypes.ACCESS_KEY_CLEANUP,
  logicalId: 'ExportsAuthAccessKeyKeyCleanup',
  physicalId,
  oldProps: oldUserName === undefined ? undefined : props(oldUserName),
});
const iamCalls = () => h.aws.calls.filter((c) => c.service === 'iam').map((c) => c.action);

/** A user with `n` keys, carrying the cleanup tag unless `tagged` is false. */
function keysOf(user: string, n: number, tagged = true): string[] {
  h.aws.createUser(user);
  h.aws.tagUser(user, tagged ? { [ACCESS_KEY_CLEANUP_TAG.KEY]: ACCESS_KEY_CLEANUP_TAG.VALUE, team: 'data' } : { team: 'data' });
  return Array.from({ length: n }, () => {
    const key = h.aws.createAccessKey(user);
    h.secretValues.add(key.secretAccessKey);
    return key.accessKeyId;
  });
}

test('Create and an Update that keeps the user: no IAM call, physical id = the user name; a new user name is a replacement', async () => {
  const [key] = keysOf(USER, 1);
  expect((await handler(event('Create'))).PhysicalResourceId).toBe(USER);
  expect((await handler(event('Update', USER, USER, USER))).PhysicalResourceId).toBe(USER);
  expect((await handler(event('Update', 'Dest-Other-XYZ', USER, USER))).PhysicalResourceId).toBe('Dest-Other-XYZ');
  expect(iamCalls()).toEqual([]);
  expect(h.aws.accessKeyWorks(key)).toBe(true);
});

test('Delete: every key left on the user goes (a rotated key and a second one), then IAM deletes the user', async () => {
  const keys = keysOf(USER, 2);
  const other = keysOf('someone-else', 1);
  expect(() => h.aws.deleteUser(USER)).toThrow(/must delete access keys first/);
  expect((await handler(event('Delete', USER, USER))).PhysicalResourceId).toBe(USER);
  expect(h.aws.accessKeysOf(USER)).toEqual([]);
  for (const k of keys) expect(h.aws.accessKeyWorks(k)).toBe(false);
  expect(h.aws.accessKeyWorks(other[0])).toBe(true);
  expect(iamCalls()).toEqual(['ListUserTags', 'ListAccessKeys', 'DeleteAccessKey', 'DeleteAccessKey']);
  h.aws.deleteUser(USER);
  expect(h.aws.userExists(USER)).toBe(false);
});

test('Delete of a user already gone (deleted by hand, or a rolled-back create): success, nothing deleted', async () => {
  expect((await handler(event('Delete', USER, USER))).PhysicalResourceId).toBe(USER);
  expect(iamCalls()).toEqual(['ListUserTags']);
});

test('Delete while the user no longer carries the cleanup tag (keyLifecycle removed, the user stays): AEP\'s key is left alone', async () => {
  const [key] = keysOf(USER, 1, false);
  expect((await handler(event('Delete', USER, USER))).PhysicalResourceId).toBe(USER);
  expect(iamCalls()).toEqual(['ListUserTags']);
  expect(h.aws.accessKeyWorks(key)).toBe(true);
});

test('Delete whose physical id is not the user name: no IAM call, no key deleted', async () => {
  const [key] = keysOf(USER, 1);
  expect((await handler(event('Delete', USER, 'something-else'))).PhysicalResourceId).toBe('something-else');
  expect(iamCalls()).toEqual([]);
  expect(h.aws.accessKeyWorks(key)).toBe(true);
});

test('IAM refuses (no grant): the Delete fails naming the IAM action, so CloudFormation does not go on to a user it cannot delete', async () => {
  keysOf(USER, 1);
  h.aws.setAuthorizer((r) => (r.action.startsWith('iam:') ? 'denied' : 'allowed'));
  try {
    const err = await rejectionOf(() => handler(event('Delete', USER, USER)));
    expect(err.message).toMatch(/IAM ListUserTags failed: AccessDenied/);
    expect(h.aws.accessKeysOf(USER)).toHaveLength(1);
  } finally {
    h.aws.setAuthorizer(undefined);
  }
});
