import { deleteAccessKey, IamError, listAccessKeys, listUserTags } from '../../aws/iam-keys';
import type { Invocation } from '../../plumbing/config';
import type { CustomResourceEvent, CustomResourceResponse } from '../../plumbing/events';
import { log } from '../../plumbing/log';
import { requireString } from '../../plumbing/props';
import { ACCESS_KEY_CLEANUP_TAG, AccessKeyCleanupProps } from '../../private/contract';

/**
 * Handles `Custom::AepS3AccessKeyCleanup`, which sits between a library-made IAM user and its
 * CloudFormation key while `keyLifecycle` is set (physical id = the user name). IAM refuses to
 * delete a user that still has a key (`DeleteConflict`) and CloudFormation deletes only the key it
 * made, so before the user goes its Delete deletes the keys a scheduled rotation made.
 *
 * CloudFormation also sends that Delete when only `keyLifecycle` was removed and the user stays,
 * and AEP still needs its key then. The user's {@link ACCESS_KEY_CLEANUP_TAG} tells the two apart:
 * the template drops it with `keyLifecycle`, and CloudFormation updates the user (update phase)
 * before it deletes removed resources (cleanup phase); a user about to be deleted keeps it.
 * Create and Update call nothing.
 */
export async function onAccessKeyCleanupEvent(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  const userName = requireString(event.ResourceProperties, AccessKeyCleanupProps.USER_NAME);
  if (event.RequestType !== 'Delete') return { PhysicalResourceId: userName };
  const physicalId = event.PhysicalResourceId ?? userName;
  if (physicalId !== userName) {
    // Not a resource this handler answered (its id is always the user name): touch no user's keys.
    log('warn', 'access-key cleanup: physical id is not the user name; nothing deleted', { physicalResourceId: physicalId });
    return { PhysicalResourceId: physicalId };
  }
  let keys;
  try {
    const tags = await listUserTags(userName, invocation);
    if (tags[ACCESS_KEY_CLEANUP_TAG.KEY] !== ACCESS_KEY_CLEANUP_TAG.VALUE) {
      log('info', 'access-key cleanup: the user stays (no cleanup tag); its keys are left alone', { userName });
      return { PhysicalResourceId: physicalId };
    }
    keys = await listAccessKeys(userName, invocation);
  } catch (err) {
    // The user is already gone (deleted by hand, or a rolled-back create): nothing to clean.
    if ((err as IamError).code === 'NoSuchEntity') return { PhysicalResourceId: physicalId };
    throw err;
  }
  for (const key of keys) await deleteAccessKey(userName, key.accessKeyId, invocation);
  // Key ids are not secret; they say which keys went with the user.
  log('info', 'access-key cleanup: deleted the keys left on the user before CloudFormation deletes it', { userName, accessKeyIds: keys.map((k) => k.accessKeyId) });
  return { PhysicalResourceId: physicalId };
}
