/**
 * Pure reducer for a run watched live: a snapshot (GET /api/runs/<id>) plus WebSocket deltas.
 *
 * Rules (DESIGN.md "Live updates"):
 * - deltas are applied in seq order; a seq <= the highest applied one is a duplicate or stale: ignored;
 * - deltas that arrived while the snapshot was in flight are replayed on top of it, but never move a
 *   step backwards (the snapshot may already contain them) and never append a log line twice;
 * - a final run never reopens.
 */
import type { LiveMessage, Run, RunSummary, Step, StepStatus } from './types';
import { isFinalRun } from './types';

export interface LiveState {
  run: Run | null;
  /** highest seq applied (or covered by the snapshot) */
  applied: number;
  /** highest seq ever received on any socket */
  seen: number;
}

export const initialLiveState: LiveState = { run: null, applied: 0, seen: 0 };

const RANK: Record<StepStatus, number> = {
  waiting: 0, running: 1, suspended: 2, success: 3, failure: 3, skipped: 3, canceled: 3,
};

/** Would replacing `cur` by `next` move the step backwards (same attempt, earlier status)? */
export function isRegression(cur: Step | undefined, next: Step): boolean {
  if (!cur) return false;
  const ca = cur.attempts, na = next.attempts;
  if (typeof ca === 'number' && typeof na === 'number') {
    if (na > ca) return false;
    if (na < ca) return true;
  }
  return (RANK[next.status] ?? 0) < (RANK[cur.status] ?? 0);
}

function upsertStep(steps: Step[], step: Step, guard: boolean): Step[] {
  const i = steps.findIndex((s) => s.key === step.key);
  if (i < 0) return [...steps, step];
  const cur = steps[i];
  if (guard && isRegression(cur, step)) return steps;
  const next = steps.slice();
  // a step delta may omit logs (they stream separately): keep what we have
  next[i] = { ...step, logs: step.logs ?? cur.logs };
  return next;
}

function appendLog(steps: Step[], key: string, text: string, dedupe: boolean): Step[] {
  const i = steps.findIndex((s) => s.key === key);
  if (i < 0) {
    // a log line for a step we have not heard of yet: create a placeholder
    const module_id = key.split('/').pop() ?? key;
    return [...steps, { key, module_id, type: '', status: 'running', logs: text }];
  }
  const cur = steps[i];
  const logs = cur.logs ?? '';
  if (dedupe && text && logs.includes(text)) return steps;
  const next = steps.slice();
  next[i] = { ...cur, logs: logs + text };
  return next;
}

function mergeRun(run: Run, patch: Partial<RunSummary>): Run {
  if (isFinalRun(run.status) && patch.status && !isFinalRun(patch.status)) return run;
  const { steps: _ignored, ...rest } = patch as Partial<Run>;
  void _ignored;
  return { ...run, ...rest, steps: run.steps, flow: rest.flow ?? run.flow };
}

function applyOne(run: Run, msg: LiveMessage, replay: boolean): Run {
  switch (msg.type) {
    case 'run':
      return mergeRun(run, msg.run ?? {});
    case 'step':
      if (!msg.step || !msg.step.key) return run;
      return { ...run, steps: upsertStep(run.steps, msg.step, true) };
    case 'log':
      if (!msg.key || typeof msg.text !== 'string') return run;
      return { ...run, steps: appendLog(run.steps, msg.key, msg.text, replay) };
    default:
      return run;
  }
}

/** A message from the socket. Before the first snapshot it only advances `seen`. */
export function applyMessage(state: LiveState, msg: LiveMessage): LiveState {
  const seq = typeof msg.seq === 'number' ? msg.seq : 0;
  const seen = Math.max(state.seen, seq);
  if (!state.run) return { ...state, seen };
  if (seq && seq <= state.applied) return seen === state.seen ? state : { ...state, seen };
  if (msg.run_id && state.run.id && String(msg.run_id) !== String(state.run.id)) return { ...state, seen };
  return { run: applyOne(state.run, msg, false), applied: seq || state.applied, seen };
}

/**
 * A fresh snapshot. `pending` are the messages that arrived while it was in flight (in arrival order);
 * they are replayed in seq order with the regression / duplicate-log guards.
 */
export function applySnapshot(state: LiveState, snapshot: Run, pending: LiveMessage[] = []): LiveState {
  let run: Run = { ...snapshot, steps: Array.isArray(snapshot.steps) ? snapshot.steps : [] };
  // a live final state we already hold wins over an older, non-final snapshot
  if (state.run && isFinalRun(state.run.status) && !isFinalRun(run.status)) run = state.run;
  let applied = 0;
  const sorted = pending.filter((m) => typeof m.seq === 'number').sort((a, b) => a.seq - b.seq);
  for (const m of sorted) {
    if (m.seq <= applied) continue;
    run = applyOne(run, m, true);
    applied = m.seq;
  }
  const seen = Math.max(state.seen, applied);
  return { run, applied: Math.max(applied, seen), seen };
}

export function stepByKey(run: Run | null): Map<string, Step> {
  const m = new Map<string, Step>();
  for (const s of run?.steps ?? []) m.set(s.key, s);
  return m;
}
