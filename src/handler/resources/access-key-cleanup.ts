import { deleteAccessKey, IamKeyError, listAccessKeys } from '../../aws/iam-keys';
import type { Invocation } from '../../plumbing/config';
import type { CustomResourceEvent, CustomResourceResponse } from '../../plumbing/events';
import { log } from '../../plumbing/log';
import { requireString } from '../../plumbing/props';
import { AccessKeyCleanupProps } from '../../private/contract';

/**
 * Handles `Custom::AepS3AccessKeyCleanup`. The resource lives exactly as long as its IAM user
 * (physical id = the user name; a new user name is a replacement), so CloudFormation sends its
 * Delete only when the user goes too: stack delete, the user removed from the template, or the
 * user replaced (the old one), never on an update that keeps the user. Before the user's own
 * Delete, which IAM refuses (`DeleteConflict`) while the user has a key, it deletes the keys
 * CloudFormation does not know: those a scheduled rotation made. Create and Update call nothing.
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
    keys = await listAccessKeys(userName, invocation);
  } catch (err) {
    // The user is already gone (deleted by hand, or a rolled-back create): nothing to clean.
    if ((err as IamKeyError).code === 'NoSuchEntity') return { PhysicalResourceId: physicalId };
    throw err;
  }
  for (const key of keys) await deleteAccessKey(userName, key.accessKeyId, invocation);
  // Key ids are not secret; they say which keys went with the user.
  log('info', 'access-key cleanup: deleted the keys left on the user before CloudFormation deletes it', { userName, accessKeyIds: keys.map((k) => k.accessKeyId) });
  return { PhysicalResourceId: physicalId };
}
