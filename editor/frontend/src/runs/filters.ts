/** Runs list filters <-> the page's query string <-> the API query. Pure. */
export interface RunFilters {
  flow: string;
  status: string;
  /** yyyy-mm-dd (local day), inclusive */
  from: string;
  to: string;
}

export const EMPTY_FILTERS: RunFilters = { flow: '', status: '', from: '', to: '' };
export const RUN_STATUSES = ['queued', 'running', 'suspended', 'success', 'failure', 'canceled'] as const;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function filtersFromSearch(search: string): RunFilters {
  const q = new URLSearchParams(search);
  const status = q.get('status') ?? '';
  return {
    flow: q.get('flow') ?? '',
    status: (RUN_STATUSES as readonly string[]).includes(status) ? status : '',
    from: DAY.test(q.get('from') ?? '') ? (q.get('from') as string) : '',
    to: DAY.test(q.get('to') ?? '') ? (q.get('to') as string) : '',
  };
}

export function filtersToSearch(f: RunFilters): string {
  const q = new URLSearchParams();
  for (const k of ['flow', 'status', 'from', 'to'] as const) if (f[k]) q.set(k, f[k]);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Local midnight of a yyyy-mm-dd day, as an ISO instant; `end` gives the next midnight. */
export function dayToIso(day: string, end = false): string | undefined {
  if (!DAY.test(day)) return undefined;
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d + (end ? 1 : 0)).toISOString();
}

export function apiQuery(f: RunFilters): Record<string, string | undefined> {
  return {
    flow: f.flow.trim() || undefined,
    status: f.status || undefined,
    created_after: dayToIso(f.from),
    created_before: dayToIso(f.to, true),
  };
}

export function hasFilters(f: RunFilters): boolean {
  return !!(f.flow || f.status || f.from || f.to);
}

/** A compact one-line preview of run args: `a=1, name="x", …`. */
export function argsPreview(args: unknown, max = 80): string {
  if (!args || typeof args !== 'object') return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(args as Record<string, unknown>)) {
    let s: string;
    try {
      s = JSON.stringify(v) ?? 'undefined';
    } catch {
      s = '…';
    }
    if (s.length > 24) s = s.slice(0, 23) + '…';
    parts.push(`${k}=${s}`);
  }
  const out = parts.join(', ');
  return out.length > max ? out.slice(0, max - 1) + '…' : out;
}
