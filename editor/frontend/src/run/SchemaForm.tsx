/** Renders an object JSON Schema as a form (see schemaForm.ts for widgets and validation). */
import type { JSONSchema } from '../lib/openflow';
import { fieldsOf, type FieldSpec, type FormValues } from './schemaForm';

function optionLabel(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function Field({ f, value, error, onChange, disabled }: { f: FieldSpec; value: unknown; error?: string; onChange: (v: unknown) => void; disabled?: boolean }) {
  const id = `sf-${f.name}`;
  const cls = `input${error ? ' invalid' : ''}`;
  let input;
  switch (f.widget) {
    case 'checkbox':
      return (
        <div className="field sf-field">
          <label className="checkbox" htmlFor={id}>
            <input id={id} name={f.name} type="checkbox" checked={Boolean(value)} disabled={disabled} onChange={(e) => onChange(e.target.checked)} />
            <span>{f.label}</span>
          </label>
          {f.description && <span className="hint">{f.description}</span>}
          {error && <span className="error-text">{error}</span>}
        </div>
      );
    case 'select':
      input = (
        <select id={id} name={f.name} className={`select ${cls}`} value={value === undefined ? '' : optionLabel(value)} disabled={disabled}
          onChange={(e) => onChange(e.target.value === '' ? undefined : f.options?.find((o) => optionLabel(o) === e.target.value))}>
          {!f.required || value === undefined ? <option value="">—</option> : null}
          {(f.options ?? []).map((o) => (
            <option key={optionLabel(o)} value={optionLabel(o)}>{optionLabel(o)}</option>
          ))}
        </select>
      );
      break;
    case 'multiselect': {
      const arr = Array.isArray(value) ? value : [];
      input = (
        <div className="sf-multi">
          {(f.options ?? []).map((o) => {
            const on = arr.some((x) => optionLabel(x) === optionLabel(o));
            return (
              <label key={optionLabel(o)} className="checkbox">
                <input type="checkbox" checked={on} disabled={disabled} onChange={() => onChange(on ? arr.filter((x) => optionLabel(x) !== optionLabel(o)) : [...arr, o])} />
                {optionLabel(o)}
              </label>
            );
          })}
        </div>
      );
      break;
    }
    case 'textarea':
    case 'json':
    case 'list':
      input = (
        <textarea id={id} name={f.name} className={cls} rows={f.widget === 'textarea' ? 4 : 3} value={String(value ?? '')} disabled={disabled}
          placeholder={f.widget === 'list' ? 'one item per line' : f.widget === 'json' ? 'JSON' : ''}
          onChange={(e) => onChange(e.target.value)} />
      );
      break;
    default: {
      const type = f.widget === 'number' || f.widget === 'integer' ? 'number' : f.widget === 'date' ? 'date' : f.widget === 'datetime' ? 'datetime-local' : f.widget === 'email' ? 'email' : 'text';
      input = (
        <input id={id} name={f.name} className={cls} type={type} step={f.widget === 'integer' ? 1 : f.widget === 'number' ? 'any' : undefined}
          value={String(value ?? '')} disabled={disabled} placeholder={f.schema.default !== undefined ? String(f.schema.default) : ''}
          onChange={(e) => onChange(e.target.value)} />
      );
    }
  }
  return (
    <div className="field sf-field">
      <label htmlFor={id}>
        {f.label}
        {f.required && <span className="sf-req" title="required"> *</span>}
      </label>
      {input}
      {f.description && <span className="hint">{f.description}</span>}
      {error && <span className="error-text" data-testid={`error-${f.name}`}>{error}</span>}
    </div>
  );
}

export function SchemaForm({ schema, values, errors, onChange, disabled }: {
  schema: JSONSchema | null;
  values: FormValues;
  errors: Record<string, string>;
  onChange: (values: FormValues) => void;
  disabled?: boolean;
}) {
  const fields = fieldsOf(schema);
  if (!fields.length) return null;
  return (
    <div className="schema-form">
      {fields.map((f) => (
        <Field key={f.name} f={f} value={values[f.name]} error={errors[f.name]} disabled={disabled} onChange={(v) => onChange({ ...values, [f.name]: v })} />
      ))}
    </div>
  );
}
