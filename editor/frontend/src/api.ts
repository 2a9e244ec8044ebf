/**
 * Shared fetch wrapper: same-origin session auth, CSRF header on writes, JSON in/out,
 * errors normalised to {errors: [{path, message}]} (the Django API's shape).
 */
export interface ApiErrorItem {
  path: string;
  message: string;
}

export class ApiError extends Error {
  status: number;
  errors: ApiErrorItem[];
  body: unknown;
  constructor(status: number, errors: ApiErrorItem[], body: unknown) {
    super(errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('\n') || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors;
    this.body = body;
  }
}

let csrfToken: string | undefined;
let apiBase = '/api/';

export function configureApi(opts: { csrfToken?: string; base?: string }): void {
  if (opts.csrfToken !== undefined) csrfToken = opts.csrfToken;
  if (opts.base) apiBase = opts.base.endsWith('/') ? opts.base : opts.base + '/';
}

function cookie(name: string): string | undefined {
  if (typeof document === 'undefined') return undefined;
  const m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
  return m ? decodeURIComponent(m[1]) : undefined;
}

/** Turn any error body (DRF style {field: [msg]}, {detail}, {errors}) into [{path, message}]. */
export function normaliseErrors(body: unknown, status: number): ApiErrorItem[] {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (Array.isArray(b.errors)) {
      return b.errors.map((e) =>
        typeof e === 'string' ? { path: '', message: e } : { path: String((e as ApiErrorItem).path ?? ''), message: String((e as ApiErrorItem).message ?? e) },
      );
    }
    if (typeof b.detail === 'string') return [{ path: '', message: b.detail }];
    const out: ApiErrorItem[] = [];
    for (const [k, v] of Object.entries(b)) {
      const msgs = Array.isArray(v) ? v : [v];
      for (const m of msgs) out.push({ path: k === 'non_field_errors' ? '' : '/' + k, message: typeof m === 'string' ? m : JSON.stringify(m) });
    }
    if (out.length) return out;
  }
  if (typeof body === 'string' && body.trim()) return [{ path: '', message: body.slice(0, 300) }];
  return [{ path: '', message: `Request failed (HTTP ${status})` }];
}

/** Build an API URL: api('flows/', {search}) -> /api/flows/?search=... ; flow paths keep their slashes. */
export function apiUrl(rel: string, query?: Record<string, string | number | undefined | null>): string {
  const base = rel.startsWith('/') ? rel : apiBase + rel;
  const qs = query
    ? Object.entries(query)
        .filter(([, v]) => v !== undefined && v !== null && v !== '')
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&')
    : '';
  return qs ? `${base}${base.includes('?') ? '&' : '?'}${qs}` : base;
}

export async function request<T>(method: string, rel: string, body?: unknown, query?: Record<string, string | number | undefined | null>): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const t = csrfToken ?? cookie('csrftoken');
    if (t) headers['X-CSRFToken'] = t;
  }
  let res: Response;
  try {
    res = await fetch(apiUrl(rel, query), {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, [{ path: '', message: `Network error: ${(e as Error).message}` }], null);
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) throw new ApiError(res.status, normaliseErrors(data, res.status), data);
  return data as T;
}

export const api = {
  get: <T>(rel: string, query?: Record<string, string | number | undefined | null>) => request<T>('GET', rel, undefined, query),
  post: <T>(rel: string, body?: unknown) => request<T>('POST', rel, body ?? {}),
  put: <T>(rel: string, body: unknown) => request<T>('PUT', rel, body),
  patch: <T>(rel: string, body: unknown) => request<T>('PATCH', rel, body),
  del: <T = null>(rel: string) => request<T>('DELETE', rel),
};

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** Encode a flow path for URLs: keep slashes, escape the segments. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
