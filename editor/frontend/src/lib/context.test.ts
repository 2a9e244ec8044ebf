import { describe, expect, it } from 'vitest';
import { evalExpr, scopeFor, statusByModule, stepsBefore, truncateValue } from './context';
import { sampleFlow } from '../test/fixtures';

describe('expression context', () => {
  it('lists earlier steps at every nesting level', () => {
    const f = sampleFlow();
    expect(stepsBefore(f, 'c').map((m) => m.id)).toEqual(['a', 'b']);
    expect(stepsBefore(f, 'd').map((m) => m.id)).toEqual(['a', 'loop']);
    expect(stepsBefore(f, 'f').map((m) => m.id)).toEqual(['a', 'loop', 'br']);
    expect(stepsBefore(f, 'a')).toEqual([]);
  });
  it('builds a scope from the last run and the schema', () => {
    const f = sampleFlow();
    const run = { id: 1, status: 'success', args: { x: 5 }, steps: [{ key: 'a', module_id: 'a', status: 'success', result: { name: 'Ada' } }] };
    const s = scopeFor(f, 'c', run);
    expect(s.flow_input).toEqual({ x: 5 });
    expect(s.results).toEqual({ a: { name: 'Ada' }, b: null });
    expect(s.iter).toBeDefined();
    expect(evalExpr('`Hi ${results.a.name}`', s)).toBe('Hi Ada');
    expect(evalExpr('const y = flow_input.x * 2; return y', s)).toBe(10);
  });
  it('folds nested step keys into module statuses', () => {
    const st = statusByModule({ id: 1, status: 'running', steps: [
      { key: 'loop', module_id: 'loop', status: 'running' },
      { key: 'loop/0/b', module_id: 'b', status: 'success' },
      { key: 'loop/1/b', module_id: 'b', status: 'failure' },
    ] });
    expect(st).toEqual({ loop: 'running', b: 'failure' });
  });
  it('truncates big values', () => {
    const t = truncateValue(Array.from({ length: 100 }, (_, i) => i)) as unknown[];
    expect(t).toHaveLength(51);
    expect(String(truncateValue('x'.repeat(3000))).length).toBeLessThan(2100);
  });
});
