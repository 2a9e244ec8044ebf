import { describe, expect, it } from 'vitest';
import { applyMessage, applySnapshot, initialLiveState, isRegression } from './liveState';
import type { LiveMessage, Run, Step } from './types';

const step = (key: string, status: Step['status'], extra: Partial<Step> = {}): Step => ({
  key, module_id: key.split('/').pop() as string, type: 'rawscript', status, attempts: 1, logs: '', ...extra,
});

const snapshot = (steps: Step[], status: Run['status'] = 'running'): Run => ({
  id: 'r1', flow_path: 'f/x', status, steps, suspended: null,
});

const stepMsg = (seq: number, s: Step): LiveMessage => ({ type: 'step', seq, run_id: 'r1', step: s });
const runMsg = (seq: number, status: Run['status']): LiveMessage => ({ type: 'run', seq, run_id: 'r1', run: { id: 'r1', status } });
const logMsg = (seq: number, key: string, text: string): LiveMessage => ({ type: 'log', seq, run_id: 'r1', key, text });

describe('applyMessage', () => {
  it('only records seq before a snapshot exists', () => {
    const s = applyMessage(initialLiveState, stepMsg(3, step('a', 'running')));
    expect(s.run).toBeNull();
    expect(s.seen).toBe(3);
  });

  it('applies a newer step delta', () => {
    let s = applySnapshot(initialLiveState, snapshot([step('a', 'running')]));
    s = applyMessage(s, stepMsg(1, step('a', 'success', { result: 42 })));
    expect(s.run?.steps[0].status).toBe('success');
    expect(s.run?.steps[0].result).toBe(42);
    expect(s.applied).toBe(1);
  });

  it('ignores duplicates and older seqs', () => {
    let s = applySnapshot(initialLiveState, snapshot([step('a', 'running')]));
    s = applyMessage(s, logMsg(5, 'a', 'one\n'));
    const again = applyMessage(s, logMsg(5, 'a', 'one\n'));
    expect(again.run?.steps[0].logs).toBe('one\n');
    const older = applyMessage(s, logMsg(4, 'a', 'zero\n'));
    expect(older.run?.steps[0].logs).toBe('one\n');
  });

  it('appends log text in order', () => {
    let s = applySnapshot(initialLiveState, snapshot([step('a', 'running', { logs: 'x\n' })]));
    s = applyMessage(s, logMsg(1, 'a', 'y\n'));
    s = applyMessage(s, logMsg(2, 'a', 'z\n'));
    expect(s.run?.steps[0].logs).toBe('x\ny\nz\n');
  });

  it('inserts a step it has not seen and keeps logs when a step delta omits them', () => {
    let s = applySnapshot(initialLiveState, snapshot([step('a', 'running', { logs: 'hello' })]));
    s = applyMessage(s, stepMsg(1, step('loop/0/b', 'running')));
    expect(s.run?.steps.map((x) => x.key)).toEqual(['a', 'loop/0/b']);
    s = applyMessage(s, stepMsg(2, { ...step('a', 'success'), logs: undefined }));
    expect(s.run?.steps[0].logs).toBe('hello');
  });

  it('merges run fields but keeps the steps and the flow', () => {
    let s = applySnapshot(initialLiveState, { ...snapshot([step('a', 'success')]), flow: { summary: 'x', value: { modules: [] } } });
    s = applyMessage(s, runMsg(1, 'success'));
    expect(s.run?.status).toBe('success');
    expect(s.run?.steps).toHaveLength(1);
    expect(s.run?.flow?.summary).toBe('x');
  });

  it('never reopens a final run', () => {
    let s = applySnapshot(initialLiveState, snapshot([], 'success'));
    s = applyMessage(s, runMsg(7, 'running'));
    expect(s.run?.status).toBe('success');
  });

  it('ignores messages of another run', () => {
    const s = applySnapshot(initialLiveState, snapshot([step('a', 'running')]));
    const n = applyMessage(s, { type: 'step', seq: 9, run_id: 'other', step: step('a', 'failure') });
    expect(n.run?.steps[0].status).toBe('running');
  });
});

describe('applySnapshot', () => {
  it('skips deltas that arrived before the snapshot was requested', () => {
    let s = applyMessage(initialLiveState, stepMsg(4, step('a', 'running')));
    s = applySnapshot(s, snapshot([step('a', 'success')]));
    expect(s.applied).toBe(4);
    s = applyMessage(s, stepMsg(4, step('a', 'running')));
    expect(s.run?.steps[0].status).toBe('success');
  });

  it('replays pending deltas in seq order without moving steps backwards or duplicating logs', () => {
    const pending = [
      logMsg(3, 'a', 'line 2\n'),
      stepMsg(2, step('a', 'running')),
      stepMsg(4, step('b', 'running')),
    ];
    const s = applySnapshot(initialLiveState, snapshot([step('a', 'success', { logs: 'line 1\nline 2\n' })]), pending);
    expect(s.run?.steps.find((x) => x.key === 'a')?.status).toBe('success');
    expect(s.run?.steps.find((x) => x.key === 'a')?.logs).toBe('line 1\nline 2\n');
    expect(s.run?.steps.find((x) => x.key === 'b')?.status).toBe('running');
    expect(s.applied).toBe(4);
  });

  it('a re-fetched final snapshot replaces everything (exact final state)', () => {
    let s = applySnapshot(initialLiveState, snapshot([step('a', 'running', { logs: 'dup dup' })]));
    s = applyMessage(s, runMsg(3, 'success'));
    s = applySnapshot(s, snapshot([step('a', 'success', { logs: 'dup', result: 1 })], 'success'));
    expect(s.run?.status).toBe('success');
    expect(s.run?.steps[0]).toMatchObject({ status: 'success', logs: 'dup', result: 1 });
  });

  it('keeps a live final state over an older non-final snapshot', () => {
    let s = applySnapshot(initialLiveState, snapshot([]));
    s = applyMessage(s, runMsg(2, 'failure'));
    s = applySnapshot(s, snapshot([], 'running'));
    expect(s.run?.status).toBe('failure');
  });
});

describe('isRegression', () => {
  it('same attempt going back is a regression; a new attempt is not', () => {
    expect(isRegression(step('a', 'success'), step('a', 'running'))).toBe(true);
    expect(isRegression(step('a', 'failure'), step('a', 'running', { attempts: 2 }))).toBe(false);
    expect(isRegression(step('a', 'running'), step('a', 'suspended'))).toBe(false);
    expect(isRegression(undefined, step('a', 'waiting'))).toBe(false);
  });
});
