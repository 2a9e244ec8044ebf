/** POST to a signed resume / cancel link with the payload as the JSON body. */
import { ApiError, request } from '../api';

/** Same-origin absolute URLs become paths (the API client only takes paths). */
export function toPath(url: string, origin: string = typeof location !== 'undefined' ? location.origin : ''): string {
  if (url.startsWith('/')) return url;
  try {
    const u = new URL(url);
    if (!origin || u.origin === origin) return u.pathname + u.search;
  } catch {
    /* not a URL */
  }
  return url;
}

export function withApprover(url: string, approver?: string | null): string {
  if (!approver) return url;
  const sep = url.includes('?') ? '&' : '?';
  return /[?&]approver=/.test(url) ? url : `${url}${sep}approver=${encodeURIComponent(approver)}`;
}

export type SignedOutcome = { ok: true } | { ok: false; status: number; message: string; errors: Array<{ path: string; message: string }> };

export async function postSigned(url: string, payload: unknown, approver?: string | null): Promise<SignedOutcome> {
  try {
    await request('POST', withApprover(toPath(url), approver), payload ?? null);
    return { ok: true };
  } catch (e) {
    if (e instanceof ApiError) {
      const message =
        e.status === 410 ? 'This approval link was already used or has expired.'
          : e.status === 403 ? 'This approval link is not valid (bad signature) or you may not approve it.'
            : e.status === 400 ? 'Some values are not valid.'
              : e.message;
      return { ok: false, status: e.status, message, errors: e.errors };
    }
    return { ok: false, status: 0, message: (e as Error).message, errors: [] };
  }
}
