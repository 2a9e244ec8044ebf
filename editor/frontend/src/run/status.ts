/** Display names and theme colours of run and step statuses. */
import type { RunStatus, StepStatus } from './types';

export const STATUS_LABEL: Record<RunStatus | StepStatus, string> = {
  queued: 'Queued', waiting: 'Waiting', running: 'Running', suspended: 'Waiting for approval', success: 'Success',
  failure: 'Failed', skipped: 'Skipped', canceled: 'Canceled',
};

export const STATUS_SHORT: Record<RunStatus | StepStatus, string> = {
  queued: 'queued', waiting: 'waiting', running: 'running', suspended: 'approval', success: 'success',
  failure: 'failed', skipped: 'skipped', canceled: 'canceled',
};

/** CSS colour variable for a status (bars, dots, borders). */
export function statusColor(s: string): string {
  switch (s) {
    case 'success':
      return 'var(--success)';
    case 'failure':
      return 'var(--danger)';
    case 'running':
    case 'queued':
      return 'var(--info)';
    case 'suspended':
      return 'var(--warning)';
    case 'canceled':
      return 'var(--text-muted)';
    default:
      return 'var(--skipped)';
  }
}
