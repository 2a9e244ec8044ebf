/**
 * A small JSON-Schema form model for object schemas (approval / resume forms): which widget each
 * property gets, initial values, and validation with the same {path, message} shape the API returns.
 */
import type { JSONSchema, JSONSchemaProp } from '../lib/openflow';

export type Widget = 'text' | 'textarea' | 'number' | 'integer' | 'checkbox' | 'select' | 'multiselect' | 'list' | 'json' | 'date' | 'datetime' | 'email';

export interface FieldSpec {
  name: string;
  label: string;
  description?: string;
  widget: Widget;
  required: boolean;
  schema: JSONSchemaProp;
  options?: unknown[];
}

export interface FieldError {
  path: string;
  message: string;
}

function typeOf(p: JSONSchemaProp): string | undefined {
  const t = p.type;
  if (Array.isArray(t)) return t.find((x) => x !== 'null');
  return t;
}

export function widgetFor(p: JSONSchemaProp): Widget {
  const t = typeOf(p);
  if (Array.isArray(p.enum) && p.enum.length) return 'select';
  switch (t) {
    case 'boolean':
      return 'checkbox';
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'string':
      if (p.format === 'date') return 'date';
      if (p.format === 'date-time') return 'datetime';
      if (p.format === 'email') return 'email';
      if (p.format === 'textarea' || p.format === 'multiline' || (typeof p.maxLength === 'number' && p.maxLength > 200)) return 'textarea';
      return 'text';
    case 'array': {
      const it = p.items ?? {};
      if (Array.isArray(it.enum) && it.enum.length) return 'multiselect';
      const itemType = typeOf(it);
      if (!itemType || itemType === 'string' || itemType === 'number' || itemType === 'integer') return 'list';
      return 'json';
    }
    default:
      return t ? 'json' : 'text';
  }
}

/** approved_amount / approvedAmount -> "Approved amount" */
export function humanize(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : name;
}

export function fieldsOf(schema: JSONSchema | null | undefined): FieldSpec[] {
  if (!schema || typeof schema !== 'object') return [];
  const props = schema.properties ?? {};
  const names = Object.keys(props);
  const order = Array.isArray(schema.order) ? schema.order.filter((n) => n in props) : [];
  const sorted = [...order, ...names.filter((n) => !order.includes(n))];
  const req = new Set(Array.isArray(schema.required) ? schema.required : []);
  return sorted.map((name) => {
    const p = props[name] ?? {};
    const widget = widgetFor(p);
    return {
      name,
      label: (typeof p.title === 'string' && p.title) || humanize(name),
      description: typeof p.description === 'string' ? p.description : undefined,
      widget,
      required: req.has(name),
      schema: p,
      options: widget === 'select' ? p.enum : widget === 'multiselect' ? p.items?.enum : undefined,
    };
  });
}

/** Form state: what the inputs hold (strings for number/json/list inputs so typing stays free). */
export type FormValues = Record<string, unknown>;

export function initialValues(schema: JSONSchema | null | undefined): FormValues {
  const out: FormValues = {};
  for (const f of fieldsOf(schema)) {
    const d = f.schema.default;
    switch (f.widget) {
      case 'checkbox':
        out[f.name] = typeof d === 'boolean' ? d : false;
        break;
      case 'number':
      case 'integer':
        out[f.name] = typeof d === 'number' ? String(d) : '';
        break;
      case 'json':
        out[f.name] = d === undefined ? '' : JSON.stringify(d, null, 2);
        break;
      case 'list':
        out[f.name] = Array.isArray(d) ? d.join('\n') : '';
        break;
      case 'multiselect':
        out[f.name] = Array.isArray(d) ? d : [];
        break;
      case 'select':
        out[f.name] = d;
        break;
      default:
        out[f.name] = typeof d === 'string' ? d : '';
    }
  }
  return out;
}

function checkScalar(v: unknown, p: JSONSchemaProp, path: string, errors: FieldError[]): void {
  const minL = p.minLength as number | undefined, maxL = p.maxLength as number | undefined;
  if (typeof v === 'string') {
    if (typeof minL === 'number' && v.length < minL) errors.push({ path, message: `At least ${minL} characters` });
    if (typeof maxL === 'number' && v.length > maxL) errors.push({ path, message: `At most ${maxL} characters` });
    if (typeof p.pattern === 'string') {
      try {
        if (!new RegExp(p.pattern, 'u').test(v)) errors.push({ path, message: `Must match ${p.pattern}` });
      } catch {
        /* bad pattern in the schema: do not block the user */
      }
    }
    if (p.format === 'email' && v && !/^[^@\s]+@[^@\s]+$/.test(v)) errors.push({ path, message: 'Not an email address' });
  }
  if (typeof v === 'number') {
    const min = p.minimum as number | undefined, max = p.maximum as number | undefined;
    if (typeof min === 'number' && v < min) errors.push({ path, message: `Must be ≥ ${min}` });
    if (typeof max === 'number' && v > max) errors.push({ path, message: `Must be ≤ ${max}` });
    const emin = p.exclusiveMinimum as number | undefined, emax = p.exclusiveMaximum as number | undefined;
    if (typeof emin === 'number' && v <= emin) errors.push({ path, message: `Must be > ${emin}` });
    if (typeof emax === 'number' && v >= emax) errors.push({ path, message: `Must be < ${emax}` });
  }
  if (Array.isArray(p.enum) && p.enum.length && !p.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
    errors.push({ path, message: 'Not one of the allowed values' });
  }
}

/** Turn form values into the payload, validating against the schema. */
export function toPayload(schema: JSONSchema | null | undefined, values: FormValues): { payload: Record<string, unknown>; errors: FieldError[] } {
  const payload: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const f of fieldsOf(schema)) {
    const path = '/' + f.name;
    const raw = values[f.name];
    const missing = () => {
      if (f.required) errors.push({ path, message: 'Required' });
    };
    switch (f.widget) {
      case 'checkbox':
        payload[f.name] = Boolean(raw);
        break;
      case 'number':
      case 'integer': {
        const s = String(raw ?? '').trim();
        if (!s) {
          missing();
          break;
        }
        const n = Number(s);
        if (!Number.isFinite(n)) errors.push({ path, message: 'Not a number' });
        else if (f.widget === 'integer' && !Number.isInteger(n)) errors.push({ path, message: 'Must be a whole number' });
        else {
          payload[f.name] = n;
          checkScalar(n, f.schema, path, errors);
        }
        break;
      }
      case 'json': {
        const s = String(raw ?? '').trim();
        if (!s) {
          missing();
          break;
        }
        try {
          const v = JSON.parse(s);
          const t = typeOf(f.schema);
          const actual = Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
          if (t && t !== actual) errors.push({ path, message: `Must be ${t === 'array' ? 'an array' : t === 'object' ? 'an object' : t}` });
          else payload[f.name] = v;
        } catch {
          errors.push({ path, message: 'Not valid JSON' });
        }
        break;
      }
      case 'list': {
        const items = String(raw ?? '').split('\n').map((x) => x.trim()).filter(Boolean);
        if (!items.length) {
          if (f.required) missing();
          else if (raw !== '' && raw !== undefined) payload[f.name] = [];
          break;
        }
        const it = typeOf(f.schema.items ?? {});
        if (it === 'number' || it === 'integer') {
          const nums = items.map(Number);
          if (nums.some((n) => !Number.isFinite(n) || (it === 'integer' && !Number.isInteger(n)))) {
            errors.push({ path, message: `One ${it} per line` });
            break;
          }
          payload[f.name] = nums;
        } else payload[f.name] = items;
        break;
      }
      case 'multiselect': {
        const arr = Array.isArray(raw) ? raw : [];
        if (!arr.length && f.required) missing();
        payload[f.name] = arr;
        break;
      }
      case 'select':
        if (raw === undefined || raw === '') missing();
        else {
          payload[f.name] = raw;
          checkScalar(raw, f.schema, path, errors);
        }
        break;
      default: {
        const s = typeof raw === 'string' ? raw : '';
        if (!s) {
          missing();
          break;
        }
        payload[f.name] = s;
        checkScalar(s, f.schema, path, errors);
      }
    }
  }
  return { payload, errors };
}

export function errorsByField(errors: FieldError[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) {
    const name = (e.path || '').replace(/^\/(payload\/)?/, '').split('/')[0];
    if (!(name in out)) out[name] = e.message;
  }
  return out;
}
