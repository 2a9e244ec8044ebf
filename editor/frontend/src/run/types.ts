/** Run / step shapes of the public API (GET /api/runs/<id>) and the live WebSocket messages. */
import type { JSONSchema, OpenFlow } from '../lib/openflow';

export type RunStatus = 'queued' | 'running' | 'suspended' | 'success' | 'failure' | 'canceled';
export type StepStatus = 'waiting' | 'running' | 'suspended' | 'success' | 'failure' | 'skipped' | 'canceled';

export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['success', 'failure', 'canceled'];
export const FINAL_STEP_STATUSES: readonly StepStatus[] = ['success', 'failure', 'skipped', 'canceled'];

export function isFinalRun(s: RunStatus | string | undefined | null): boolean {
  return FINAL_RUN_STATUSES.includes(s as RunStatus);
}
export function isFinalStep(s: StepStatus | string | undefined | null): boolean {
  return FINAL_STEP_STATUSES.includes(s as StepStatus);
}

export interface StepError {
  name?: string;
  message?: string;
  stack?: string;
  [k: string]: unknown;
}

export interface Iterations {
  total: number | null;
  done: number;
  failed: number[];
}

export interface Step {
  key: string;
  module_id: string;
  type: string;
  status: StepStatus;
  attempts?: number;
  args?: unknown;
  result?: unknown;
  error?: StepError | string | null;
  logs?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  iterations?: Iterations | null;
  /** branchall progress */
  branches?: Iterations | null;
  branch_chosen?: number | string | { type: string; branch?: number } | null;
  approvers?: Approver[];
  [k: string]: unknown;
}

export type Approver = string | { approver?: string | null; resume_id?: number; [k: string]: unknown };

export interface Suspended {
  step: string;
  module_id?: string;
  resume_url: string;
  cancel_url: string;
  approval_page_url?: string;
  required_events: number;
  received_events: number;
  timeout_at?: string | null;
  resume_form?: JSONSchema | { schema?: JSONSchema } | null;
  hide_cancel?: boolean;
  approvers?: Approver[];
}

export interface RunSummary {
  id: string;
  flow_path: string | null;
  status: RunStatus;
  skipped?: boolean;
  args?: Record<string, unknown> | null;
  result?: unknown;
  created_at?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  suspended?: Suspended | null;
  flow?: OpenFlow | null;
  created_by?: string | null;
  restarted_from?: string | null;
  [k: string]: unknown;
}

export interface Run extends RunSummary {
  steps: Step[];
}

export type LiveMessage =
  | { type: 'run'; seq: number; run_id: string; run: Partial<RunSummary> }
  | { type: 'step'; seq: number; run_id: string; step: Step }
  | { type: 'log'; seq: number; run_id: string; key: string; text: string };

export function approverName(a: Approver): string {
  if (typeof a === 'string') return a;
  return (a && (a.approver as string)) || 'anonymous';
}

/** resume_form may be the schema itself or Windmill's {schema: ...} wrapper. */
export function resumeFormSchema(form: Suspended['resume_form']): JSONSchema | null {
  if (!form || typeof form !== 'object') return null;
  const f = form as { schema?: JSONSchema; properties?: unknown; type?: unknown };
  if (f.schema && typeof f.schema === 'object') return f.schema;
  if (f.properties || f.type) return form as JSONSchema;
  return null;
}
