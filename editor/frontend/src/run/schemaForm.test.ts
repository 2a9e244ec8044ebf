import { describe, expect, it } from 'vitest';
import type { JSONSchema } from '../lib/openflow';
import { errorsByField, fieldsOf, humanize, initialValues, toPayload } from './schemaForm';

const schema: JSONSchema = {
  type: 'object',
  order: ['decision', 'amount'],
  required: ['decision', 'amount'],
  properties: {
    comment: { type: 'string', description: 'why' },
    amount: { type: 'integer', minimum: 1, maximum: 10 },
    decision: { type: 'string', enum: ['ship', 'hold'] },
    urgent: { type: 'boolean', default: true },
    tags: { type: 'array', items: { type: 'string' } },
    meta: { type: 'object' },
  },
};

describe('schemaForm', () => {
  it('orders fields by `order`, then the rest, with widgets', () => {
    expect(fieldsOf(schema).map((f) => [f.name, f.widget, f.required])).toEqual([
      ['decision', 'select', true],
      ['amount', 'integer', true],
      ['comment', 'text', false],
      ['urgent', 'checkbox', false],
      ['tags', 'list', false],
      ['meta', 'json', false],
    ]);
  });

  it('labels fields by title, else a readable form of the name', () => {
    expect(fieldsOf(schema).map((f) => f.label)).toEqual(['Decision', 'Amount', 'Comment', 'Urgent', 'Tags', 'Meta']);
    expect(humanize('approved_amount')).toBe('Approved amount');
    expect(humanize('approvedAmount')).toBe('Approved amount');
  });

  it('starts from defaults', () => {
    expect(initialValues(schema)).toEqual({ decision: undefined, amount: '', comment: '', urgent: true, tags: '', meta: '' });
  });

  it('builds a typed payload', () => {
    const r = toPayload(schema, { decision: 'hold', amount: '3', comment: 'ok', urgent: false, tags: 'a\n b \n', meta: '{"k":1}' });
    expect(r.errors).toEqual([]);
    expect(r.payload).toEqual({ decision: 'hold', amount: 3, comment: 'ok', urgent: false, tags: ['a', 'b'], meta: { k: 1 } });
  });

  it('reports required, type and range errors by field', () => {
    const r = toPayload(schema, { decision: '', amount: '2.5', meta: '[1]' });
    expect(errorsByField(r.errors)).toEqual({ decision: 'Required', amount: 'Must be a whole number', meta: 'Must be an object' });
    expect(errorsByField(toPayload(schema, { decision: 'ship', amount: '11' }).errors)).toEqual({ amount: 'Must be ≤ 10' });
  });

  it('maps API error paths back to fields', () => {
    expect(errorsByField([{ path: '/payload/amount', message: 'bad' }, { path: '/decision', message: 'x' }])).toEqual({ amount: 'bad', decision: 'x' });
  });

  it('no schema means an empty payload', () => {
    expect(toPayload(null, {})).toEqual({ payload: {}, errors: [] });
  });
});
