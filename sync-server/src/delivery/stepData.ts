import { z } from 'zod';
import { Id } from '@parley/schema';
import { PermanentFailure } from '../jobs/jobOutcomes';
import type { StepData } from './escalationJobs';

const StepJob = z.strictObject({ userId: Id, notificationId: z.string().min(1).max(300), version: z.number().int().nonnegative() });
const DigestJob = z.strictObject({ userId: Id });

/** A job's data is read back from the database: checked, and a malformed one is dead at once. */
export function stepData(data: unknown): StepData {
  const parsed = StepJob.safeParse(data);
  if (!parsed.success) throw new PermanentFailure(`malformed delivery job: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export function digestData(data: unknown): { userId: string } {
  const parsed = DigestJob.safeParse(data);
  if (!parsed.success) throw new PermanentFailure(`malformed digest job: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
