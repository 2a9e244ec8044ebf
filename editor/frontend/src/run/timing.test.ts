import { describe, expect, it } from 'vitest';
import { durationMs, formatCountdown, formatDuration, ganttGeometry, tickStep } from './timing';
import type { Step } from './types';

const T0 = Date.parse('2026-01-01T10:00:00Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

describe('durations', () => {
  it('measures finished and running steps', () => {
    expect(durationMs(iso(0), iso(2.5), T0 + 99e3)).toBe(2500);
    expect(durationMs(iso(0), null, T0 + 4000)).toBe(4000);
    expect(durationMs(null, null, T0)).toBeNull();
  });

  it('formats', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(840)).toBe('840 ms');
    expect(formatDuration(3249)).toBe('3.2 s');
    expect(formatDuration(12_900)).toBe('12 s');
    expect(formatDuration(245_000)).toBe('4m 05s');
    expect(formatDuration(2 * 3600e3 + 3 * 60e3)).toBe('2h 03m');
    expect(formatDuration(3 * 86400e3 + 4 * 3600e3)).toBe('3d 4h');
    expect(formatDuration(null)).toBe('');
  });
});

describe('formatCountdown', () => {
  it('counts down to the deadline', () => {
    expect(formatCountdown(iso(1800), T0)).toBe('30:00');
    expect(formatCountdown(iso(1800), T0 + 1)).toBe('29:59');
    expect(formatCountdown(iso(65), T0)).toBe('1:05');
    expect(formatCountdown(iso(3723), T0)).toBe('1:02:03');
    expect(formatCountdown(iso(2 * 86400 + 3 * 3600 + 5), T0)).toBe('2d 3h');
  });
  it('says expired at or after the deadline, nothing without one', () => {
    expect(formatCountdown(iso(0), T0)).toBe('expired');
    expect(formatCountdown(iso(-5), T0)).toBe('expired');
    expect(formatCountdown(null, T0)).toBe('');
  });
});

describe('gantt', () => {
  const st = (key: string, a: number | null, b: number | null, status: Step['status'] = 'success'): Step => ({
    key, module_id: key, type: '', status, started_at: a === null ? null : iso(a), finished_at: b === null ? null : iso(b),
  });

  it('places steps on the run axis', () => {
    const g = ganttGeometry([st('b', 2, 10), st('a', 0, 2), st('c', null, null, 'waiting')], { started_at: iso(0), finished_at: iso(10) }, T0 + 60e3);
    expect(g.rows.map((r) => r.key)).toEqual(['a', 'b']);
    expect(g.rows[0]).toMatchObject({ left: 0, width: 20 });
    expect(g.rows[1]).toMatchObject({ left: 20, width: 80 });
    expect(g.end - g.start).toBe(10_000);
  });

  it('extends a running run to now and marks running rows', () => {
    const g = ganttGeometry([st('a', 0, 1), st('loop/0/b', 1, null, 'running')], { started_at: iso(0) }, T0 + 4000);
    expect(g.end - g.start).toBe(4000);
    expect(g.rows[1]).toMatchObject({ running: true, left: 25, width: 75, depth: 1 });
  });

  it('ends the axis at the last activity while a run waits for approval', () => {
    const g = ganttGeometry([st('a', 0, 2), st('gate', 2, 3, 'suspended')], { started_at: iso(0), status: 'suspended' }, T0 + 600e3);
    expect(g.end - g.start).toBe(3000);
  });

  it('gives instant steps a visible width', () => {
    const g = ganttGeometry([st('a', 0, 0), st('b', 0, 100)], { started_at: iso(0), finished_at: iso(100) }, T0);
    expect(g.rows[0].width).toBeGreaterThan(0);
  });

  it('uses round ticks', () => {
    expect(tickStep(10_000)).toBe(2000);
    expect(tickStep(600)).toBe(100);
    const g = ganttGeometry([st('a', 0, 10)], { started_at: iso(0), finished_at: iso(10) }, T0);
    expect(g.ticks.map((t) => t.label)).toEqual(['0 ms', '2.0 s', '4.0 s', '6.0 s', '8.0 s', '10 s']);
  });
});
