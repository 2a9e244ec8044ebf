/** A small JSON-Schema form (flat object schemas) for run arguments. */
import { useState } from 'react';
import type { JSONSchema } from '../lib/openflow';
import { fieldOrder } from './SchemaEditor';

export function initialArgs(schema: JSONSchema | undefined, prev?: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(schema?.properties ?? {})) if (p.default !== undefined) out[k] = p.default;
  return { ...out, ...(prev ?? {}) };
}

export function missingRequired(schema: JSONSchema | undefined, args: Record<string, unknown>): string[] {
  return (schema?.required ?? []).filter((k) => args[k] === undefined || args[k] === '');
}

function JsonInput({ value, onChange, id }: { value: unknown; onChange: (v: unknown) => void; id: string }) {
  const [text, setText] = useState(value === undefined ? '' : JSON.stringify(value, null, 2));
  const [err, setErr] = useState('');
  return (
    <>
      <textarea id={id} className={`input${err ? ' invalid' : ''}`} rows={3} value={text} onChange={(e) => {
        setText(e.target.value);
        if (!e.target.value.trim()) return onChange(undefined);
        try {
          onChange(JSON.parse(e.target.value));
          setErr('');
        } catch (x) {
          setErr((x as Error).message);
        }
      }} />
      {err && <div className="error-text">{err}</div>}
    </>
  );
}

export function SchemaForm({ schema, value, onChange }: { schema: JSONSchema | undefined; value: Record<string, unknown>; onChange: (v: Record<string, unknown>) => void }) {
  const s = schema ?? { type: 'object', properties: {} };
  const order = fieldOrder(s);
  const req = new Set(s.required ?? []);
  if (!order.length) return <div className="hint">This flow takes no inputs.</div>;
  return (
    <div className="schema-form">
      {order.map((k) => {
        const p = s.properties![k] ?? {};
        const t = (Array.isArray(p.type) ? p.type[0] : p.type) ?? 'string';
        const id = `arg-${k}`;
        const set = (v: unknown) => onChange({ ...value, [k]: v });
        const v = value[k];
        return (
          <div className="field" key={k}>
            <label htmlFor={id}>{p.title ?? k}{req.has(k) && <span className="req">*</span>} <span className="hint">{t}</span></label>
            {p.enum ? (
              <select id={id} className="select" value={String(v ?? '')} onChange={(e) => set(e.target.value)}>
                <option value="">—</option>
                {p.enum.map((o) => <option key={String(o)} value={String(o)}>{String(o)}</option>)}
              </select>
            ) : t === 'boolean' ? (
              <label className="checkbox"><input id={id} type="checkbox" checked={v === true} onChange={(e) => set(e.target.checked)} /> {String(v === true)}</label>
            ) : t === 'number' || t === 'integer' ? (
              <input id={id} className="input" type="number" value={typeof v === 'number' ? v : ''} onChange={(e) => set(e.target.value === '' ? undefined : Number(e.target.value))} />
            ) : t === 'string' ? (
              <input id={id} className="input" value={typeof v === 'string' ? v : ''} onChange={(e) => set(e.target.value)} />
            ) : (
              <JsonInput id={id} value={v} onChange={set} />
            )}
            {p.description && <div className="hint">{p.description}</div>}
          </div>
        );
      })}
    </div>
  );
}
