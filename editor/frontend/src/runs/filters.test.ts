import { describe, expect, it } from 'vitest';
import { apiQuery, argsPreview, dayToIso, filtersFromSearch, filtersToSearch, hasFilters } from './filters';

describe('run filters', () => {
  it('round-trips through the query string and drops junk', () => {
    const f = filtersFromSearch('?flow=f/a/b&status=failure&from=2026-01-02&to=bad&x=1');
    expect(f).toEqual({ flow: 'f/a/b', status: 'failure', from: '2026-01-02', to: '' });
    expect(filtersToSearch(f)).toBe('?flow=f%2Fa%2Fb&status=failure&from=2026-01-02');
    expect(filtersFromSearch('?status=nope').status).toBe('');
    expect(filtersToSearch({ flow: '', status: '', from: '', to: '' })).toBe('');
  });

  it('maps days to an inclusive ISO range', () => {
    const after = dayToIso('2026-03-10');
    const before = dayToIso('2026-03-10', true);
    expect(new Date(before!).getTime() - new Date(after!).getTime()).toBe(24 * 3600e3);
    expect(new Date(after!).getDate()).toBe(10);
    expect(dayToIso('nope')).toBeUndefined();
    expect(apiQuery({ flow: ' f/x ', status: '', from: '', to: '2026-03-10' })).toEqual({
      flow: 'f/x', status: undefined, created_after: undefined, created_before: before,
    });
    expect(hasFilters({ flow: '', status: '', from: '', to: '' })).toBe(false);
  });

  it('previews args compactly', () => {
    expect(argsPreview({ n: 3, name: 'bob' })).toBe('n=3, name="bob"');
    expect(argsPreview({ long: 'x'.repeat(50) })).toBe('long="xxxxxxxxxxxxxxxxxxxxxx…');
    expect(argsPreview(null)).toBe('');
  });
});
