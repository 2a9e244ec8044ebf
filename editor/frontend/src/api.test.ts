import { describe, expect, it } from 'vitest';
import { apiUrl, encodePath, normaliseErrors } from './api';

describe('api helpers', () => {
  it('passes the server error shape through', () => {
    expect(normaliseErrors({ errors: [{ path: '/value', message: 'bad' }] }, 400)).toEqual([{ path: '/value', message: 'bad' }]);
  });
  it('normalises DRF field errors and detail', () => {
    expect(normaliseErrors({ path: ['taken'] }, 400)).toEqual([{ path: '/path', message: 'taken' }]);
    expect(normaliseErrors({ detail: 'Not found.' }, 404)).toEqual([{ path: '', message: 'Not found.' }]);
    expect(normaliseErrors(null, 500)[0].message).toContain('500');
  });
  it('builds urls with query strings and keeps flow path slashes', () => {
    expect(apiUrl('flows/', { search: 'a b', page: undefined })).toBe('/api/flows/?search=a%20b');
    expect(encodePath('f/my folder/x')).toBe('f/my%20folder/x');
  });
});
