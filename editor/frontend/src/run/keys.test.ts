import { describe, expect, it } from 'vitest';
import type { OpenFlow } from '../lib/openflow';
import { chosenBranch, indexFlow, iterationsPresent, keyFor, nodeRuns, parseKey, resolveSelection, selectionForKey, suspendedModuleId } from './keys';
import type { Step } from './types';

const script = (id: string) => ({ id, value: { type: 'rawscript', language: 'python3', content: '', input_transforms: {} } });

const flow: OpenFlow = {
  summary: 't',
  value: {
    modules: [
      script('a'),
      {
        id: 'loop',
        value: {
          type: 'forloopflow', iterator: { type: 'javascript', expr: 'x' }, skip_failures: true,
          modules: [script('b'), { id: 'inner', value: { type: 'forloopflow', iterator: { type: 'javascript', expr: 'y' }, skip_failures: false, modules: [script('x')] } }],
        },
      },
      {
        id: 'br',
        value: { type: 'branchone', branches: [{ expr: 'false', modules: [script('c')] }, { expr: 'true', modules: [script('d')] }], default: [script('e')] },
      },
    ],
    failure_module: script('failure'),
  },
} as unknown as OpenFlow;

const st = (key: string, status: Step['status'], extra: Partial<Step> = {}): Step => ({
  key, module_id: key.split('/').pop() as string, type: '', status, ...extra,
});

describe('keys', () => {
  const index = indexFlow(flow);

  it('indexes every module with its containers', () => {
    expect([...index.keys()].sort()).toEqual(['a', 'b', 'br', 'c', 'd', 'e', 'failure', 'inner', 'loop', 'x']);
    expect(index.get('x')?.path.map((s) => s.id)).toEqual(['loop', 'inner']);
  });

  it('builds keys for the selected iterations and branches', () => {
    expect(keyFor(index.get('a')!, {})).toBe('a');
    expect(keyFor(index.get('b')!, { loop: 3 })).toBe('loop/3/b');
    expect(keyFor(index.get('b')!, {})).toBeNull();
    expect(keyFor(index.get('x')!, { loop: 2, inner: 0 })).toBe('loop/2/inner/0/x');
    expect(keyFor(index.get('inner')!, { loop: 2 })).toBe('loop/2/inner');
    expect(keyFor(index.get('d')!, {})).toBe('br/1/d');
    expect(keyFor(index.get('e')!, {})).toBe('br/default/e');
    expect(keyFor(index.get('failure')!, {})).toBe('failure');
  });

  it('parses keys and derives a selection from one', () => {
    expect(parseKey('loop/2/inner/0/x')).toEqual({ segments: [['loop', '2'], ['inner', '0']], moduleId: 'x' });
    expect(selectionForKey('loop/2/inner/0/x')).toEqual({ loop: 2, inner: 0 });
    expect(selectionForKey('br/default/e')).toEqual({});
  });

  it('lists the iterations present', () => {
    const steps = [st('loop', 'running'), st('loop/0/b', 'success'), st('loop/10/b', 'running'), st('loop/2/b', 'failure'), st('loopy/1/z', 'success')];
    expect(iterationsPresent(steps, 'loop')).toEqual([0, 2, 10]);
  });

  it('defaults each loop to its running (or latest) iteration, keeps a valid user choice', () => {
    const steps = [
      st('loop/0/b', 'success'), st('loop/1/b', 'running'), st('loop/2/b', 'success'),
      st('loop/1/inner/0/x', 'success'), st('loop/1/inner/1/x', 'success'),
    ];
    expect(resolveSelection(index, steps, {})).toEqual({ loop: 1, inner: 1 });
    expect(resolveSelection(index, steps, { loop: 0 })).toEqual({ loop: 0 });
    expect(resolveSelection(index, steps, { loop: 7 })).toEqual({ loop: 1, inner: 1 });
  });

  it('gives every node a status; branches not taken and never reached steps count as not run', () => {
    const steps = [st('a', 'success'), st('loop', 'success'), st('loop/0/b', 'failure'), st('br', 'success', { branch_chosen: 1 }), st('br/1/d', 'running')];
    const runs = nodeRuns(index, steps, { loop: 0 }, false);
    expect(runs.get('a')?.status).toBe('success');
    expect(runs.get('b')?.status).toBe('failure');
    expect(runs.get('b')?.key).toBe('loop/0/b');
    expect(runs.get('d')?.status).toBe('running');
    expect(runs.get('c')).toMatchObject({ status: 'skipped', notRun: true });
    expect(runs.get('e')).toMatchObject({ status: 'skipped', notRun: true });
    expect(runs.get('failure')).toMatchObject({ status: 'waiting', notRun: false });
    const done = nodeRuns(index, steps, { loop: 0 }, true);
    expect(done.get('failure')).toMatchObject({ status: 'skipped', notRun: true });
  });

  it('a step still waiting when the run is over did not run', () => {
    const runs = nodeRuns(index, [st('a', 'failure'), st('loop', 'waiting')], {}, true);
    expect(runs.get('loop')).toMatchObject({ status: 'skipped', notRun: true });
  });

  it('reads the engine branch_chosen shapes', () => {
    expect(chosenBranch({ type: 'branch', branch: 1 })).toBe(1);
    expect(chosenBranch({ type: 'default' })).toBe('default');
    expect(chosenBranch(0)).toBe(0);
    expect(chosenBranch('default')).toBe('default');
    expect(chosenBranch(undefined)).toBeNull();
    const runs = nodeRuns(index, [st('br', 'success', { branch_chosen: { type: 'branch', branch: 0 } })], {}, false);
    expect(runs.get('c')?.notRun).toBe(false);
    expect(runs.get('d')?.notRun).toBe(true);
  });

  it('default branch chosen', () => {
    const runs = nodeRuns(index, [st('br', 'running', { branch_chosen: 'default' })], {}, false);
    expect(runs.get('e')?.notRun).toBe(false);
    expect(runs.get('c')?.notRun).toBe(true);
  });

  it('finds the suspended module', () => {
    expect(suspendedModuleId({ step: 'loop/2/b' })).toBe('b');
    expect(suspendedModuleId({ step: 'a', module_id: 'a' })).toBe('a');
    expect(suspendedModuleId(null)).toBeNull();
  });
});
