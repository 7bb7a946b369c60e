import { aepIamRole } from './aep-iam-role';
import { connectionSpecs } from './connection-specs';
import { destinationRoleTrust } from './destination-role-trust';
import { disabledDataflows } from './disabled-dataflows';
import { openQuestionsCheck } from './open-questions';
import { orphanedObjects } from './orphaned-objects';
import { sandboxObjects } from './sandbox-objects';
import { sandboxUsage } from './sandbox-usage';
import { staleDestinationSchedules } from './stale-destination-schedules';
import type { DoctorCheck } from './types';

/**
 * Every check, in the order they run (a check may read what an earlier one found: the listing,
 * the stack verdicts). Adding a check: one file exporting a {@link DoctorCheck}, one line here.
 */
export const CHECKS: readonly DoctorCheck[] = [
  connectionSpecs,
  aepIamRole,
  sandboxObjects,
  orphanedObjects,
  destinationRoleTrust,
  disabledDataflows,
  staleDestinationSchedules,
  sandboxUsage,
  openQuestionsCheck,
];
