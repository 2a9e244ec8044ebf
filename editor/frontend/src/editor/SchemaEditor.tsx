/** Flow input schema editor: add / remove / reorder fields, type, default, required, description, enum. */
import { useState } from 'react';
import type { JSONSchema, JSONSchemaProp } from '../lib/openflow';
import { Icon } from '../graph/icons';

const TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'] as const;

export function fieldOrder(schema: JSONSchema): string[] {
  const keys = Object.keys(schema.properties ?? {});
  const order = (schema.order ?? []).filter((k) => keys.includes(k));
  return [...order, ...keys.filter((k) => !order.includes(k))];
}

/** Rebuild properties in a given key order (JSON objects keep insertion order). */
function reorder(schema: JSONSchema, order: string[]): JSONSchema {
  const props = schema.properties ?? {};
  const next: JSONSchema = { ...schema, properties: Object.fromEntries(order.map((k) => [k, props[k]])) };
  if (schema.order) next.order = order;
  return next;
}

function parseDefault(type: string, text: string): unknown {
  if (text === '') return undefined;
  if (type === 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function FieldRow({ name, prop, required, onChange, onRename, onRemove, onMove, first, last }: {
  name: string; prop: JSONSchemaProp; required: boolean; first: boolean; last: boolean;
  onChange: (p: JSONSchemaProp, required: boolean) => void; onRename: (n: string) => void; onRemove: () => void; onMove: (d: -1 | 1) => void;
}) {
  const [open, setOpen] = useState(false);
  const type = (Array.isArray(prop.type) ? prop.type[0] : prop.type) ?? 'string';
  const [nameText, setNameText] = useState(name);
  const dflt = prop.default === undefined ? '' : type === 'string' ? String(prop.default) : JSON.stringify(prop.default);
  return (
    <div className="schema-field" data-testid={`schema-field-${name}`}>
      <div className="row">
        <button type="button" className="btn ghost sm icon" onClick={() => setOpen(!open)} aria-label="Details">
          <Icon name={open ? 'chevronDown' : 'chevronRight'} size={14} />
        </button>
        <input className="input mono grow" value={nameText} onChange={(e) => setNameText(e.target.value)} onBlur={() => nameText !== name && onRename(nameText)} aria-label="Field name" />
        <select className="select" style={{ width: 100 }} value={type} onChange={(e) => onChange({ ...prop, type: e.target.value, default: undefined }, required)} aria-label="Type">
          {TYPES.map((t) => <option key={t}>{t}</option>)}
        </select>
        <label className="checkbox" title="Required"><input type="checkbox" checked={required} onChange={(e) => onChange(prop, e.target.checked)} />req</label>
        <button type="button" className="btn ghost sm icon" disabled={first} onClick={() => onMove(-1)} aria-label="Move up"><Icon name="up" size={14} /></button>
        <button type="button" className="btn ghost sm icon" disabled={last} onClick={() => onMove(1)} aria-label="Move down"><Icon name="down" size={14} /></button>
        <button type="button" className="btn ghost sm icon danger" onClick={onRemove} aria-label="Remove"><Icon name="trash" size={14} /></button>
      </div>
      {open && (
        <div className="schema-field-details">
          <div className="field"><label>Description</label><input className="input" value={prop.description ?? ''} onChange={(e) => onChange({ ...prop, description: e.target.value || undefined }, required)} /></div>
          <div className="field"><label>Default {type !== 'string' && <span className="hint">(JSON)</span>}</label><input className="input" value={dflt} onChange={(e) => onChange({ ...prop, default: parseDefault(type, e.target.value) }, required)} /></div>
          {type === 'string' && (
            <div className="field"><label>Allowed values <span className="hint">(comma separated, optional)</span></label>
              <input className="input" value={(prop.enum ?? []).join(', ')} onChange={(e) => {
                const vals = e.target.value.split(',').map((s) => s.trim()).filter(Boolean);
                onChange({ ...prop, enum: vals.length ? vals : undefined }, required);
              }} />
            </div>
          )}
        </div>
      )}
    </div>
  );
}

export function SchemaEditor({ schema, onChange }: { schema: JSONSchema; onChange: (s: JSONSchema) => void }) {
  const order = fieldOrder(schema);
  const required = new Set(schema.required ?? []);
  const props = schema.properties ?? {};
  const add = () => {
    let i = order.length + 1;
    let n = `field${i}`;
    while (n in props) n = `field${++i}`;
    onChange({ ...schema, type: 'object', properties: { ...props, [n]: { type: 'string', description: '' } }, required: [...required], ...(schema.order ? { order: [...order, n] } : {}) });
  };
  return (
    <div className="schema-editor" data-testid="schema-editor">
      {order.map((name, i) => (
        <FieldRow
          key={name}
          name={name}
          prop={props[name] ?? {}}
          required={required.has(name)}
          first={i === 0}
          last={i === order.length - 1}
          onChange={(p, req) => {
            const r = new Set(required);
            if (req) r.add(name);
            else r.delete(name);
            const clean = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as JSONSchemaProp;
            onChange({ ...schema, properties: { ...props, [name]: clean }, required: order.filter((k) => r.has(k)) });
          }}
          onRename={(n) => {
            if (!n || n in props) return;
            const next = order.map((k) => (k === name ? n : k));
            const np = Object.fromEntries(next.map((k) => [k, k === n ? props[name] : props[k]]));
            onChange({ ...schema, properties: np, required: (schema.required ?? []).map((k) => (k === name ? n : k)), ...(schema.order ? { order: next } : {}) });
          }}
          onRemove={() => {
            const next = order.filter((k) => k !== name);
            const s = reorder(schema, next);
            onChange({ ...s, required: (schema.required ?? []).filter((k) => k !== name) });
          }}
          onMove={(d) => {
            const next = order.slice();
            [next[i], next[i + d]] = [next[i + d], next[i]];
            onChange(reorder(schema, next));
          }}
        />
      ))}
      {!order.length && <div className="hint">No inputs yet.</div>}
      <button type="button" className="btn sm" onClick={add} data-testid="schema-add"><Icon name="plus" size={14} /> Add field</button>
    </div>
  );
}
