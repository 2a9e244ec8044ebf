/** A step's inputs: each static (typed field) or JavaScript (CodeMirror with completion); prop-picker target tracking. */
import { memo, useState } from 'react';
import type { InputTransform } from '../lib/openflow';
import type { ArgType, SigArg } from '../lib/signature';
import { templateToExpr } from '../lib/exprPath';
import { CodeEditor, type CompletionTree, type EditorView } from './CodeEditor';

export type FocusTarget =
  | { name: string; mode: 'js'; view: EditorView }
  | { name: string; mode: 'static'; el: HTMLInputElement | HTMLTextAreaElement | null };

export interface InputsEditorProps {
  transforms: Record<string, InputTransform>;
  /** from main()'s signature (rawscript) or null (script/flow: free list) */
  signature: SigArg[] | null;
  onChange: (name: string, t: InputTransform | undefined, coalesceKey?: string) => void;
  completions: () => CompletionTree;
  onFocusTarget: (t: FocusTarget | null) => void;
  errors?: Record<string, string>;
  allowAdd?: boolean;
}

function inferType(v: unknown): ArgType {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'boolean') return 'boolean';
  if (Array.isArray(v)) return 'array';
  if (v && typeof v === 'object') return 'object';
  return 'any';
}

function JsonField({ value, onChange, onFocus, testId }: { value: unknown; onChange: (v: unknown) => void; onFocus: (el: HTMLTextAreaElement) => void; testId: string }) {
  const [text, setText] = useState(() => (value === undefined ? '' : JSON.stringify(value, null, 2)));
  const [err, setErr] = useState<string | null>(null);
  return (
    <>
      <textarea
        className={`input${err ? ' invalid' : ''}`}
        rows={Math.min(8, Math.max(2, text.split('\n').length))}
        value={text}
        data-testid={testId}
        placeholder="JSON value"
        onFocus={(e) => onFocus(e.currentTarget)}
        onChange={(e) => {
          setText(e.target.value);
          if (!e.target.value.trim()) {
            setErr(null);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value));
            setErr(null);
          } catch (x) {
            setErr((x as Error).message);
          }
        }}
      />
      {err && <div className="error-text">{err}</div>}
    </>
  );
}

const InputRow = memo(function InputRow({ name, arg, t, onChange, completions, onFocusTarget, error, extra }: {
  name: string; arg?: SigArg; t: InputTransform | undefined; onChange: InputsEditorProps['onChange']; completions: () => CompletionTree;
  onFocusTarget: InputsEditorProps['onFocusTarget']; error?: string; extra?: boolean;
}) {
  const mode = t?.type === 'javascript' ? 'js' : 'static';
  const value = t?.type === 'static' ? t.value : undefined;
  const type = arg?.type ?? inferType(value);
  const setStatic = (v: unknown) => onChange(name, { type: 'static', value: v }, `in:${name}`);
  const focusStatic = (el: HTMLInputElement | HTMLTextAreaElement | null) => onFocusTarget({ name, mode: 'static', el });
  return (
    <div className={`input-row${error ? ' has-error' : ''}`} data-testid={`input-${name}`}>
      <div className="input-row-head">
        <span className="input-name">{name}{arg?.required && <span className="req">*</span>}</span>
        <span className="input-type">{arg?.typeText || type}</span>
        {extra && <span className="badge" title="Not in main()'s signature">extra</span>}
        <span className="grow" />
        <div className="seg" role="group">
          <button type="button" className={mode === 'static' ? 'on' : ''} onClick={() => mode !== 'static' && onChange(name, { type: 'static', value: arg?.default })}>Static</button>
          <button
            type="button"
            className={mode === 'js' ? 'on' : ''}
            data-testid={`mode-js-${name}`}
            onClick={() => mode !== 'js' && onChange(name, { type: 'javascript', expr: value === undefined ? '' : typeof value === 'string' && value.includes('${') ? templateToExpr(value) : JSON.stringify(value) })}
          >
            JS
          </button>
        </div>
        {extra && <button type="button" className="btn ghost sm" title="Remove input" onClick={() => onChange(name, undefined)}>×</button>}
      </div>
      {mode === 'js' ? (
        <CodeEditor
          lang="javascript"
          compact
          value={(t as { expr: string }).expr ?? ''}
          onChange={(v) => onChange(name, { type: 'javascript', expr: v }, `in:${name}`)}
          completions={completions}
          placeholder="e.g. flow_input.name or results.a.items[0]"
          onFocus={(view) => onFocusTarget({ name, mode: 'js', view })}
          testId={`expr-${name}`}
        />
      ) : type === 'boolean' ? (
        <label className="checkbox">
          <input type="checkbox" checked={value === true} onChange={(e) => setStatic(e.target.checked)} onFocus={(e) => focusStatic(e.currentTarget)} /> {String(value === true)}
        </label>
      ) : type === 'integer' || type === 'number' ? (
        <input
          className="input"
          type="number"
          step={type === 'integer' ? 1 : 'any'}
          value={typeof value === 'number' ? value : ''}
          onFocus={(e) => focusStatic(e.currentTarget)}
          onChange={(e) => setStatic(e.target.value === '' ? undefined : Number(e.target.value))}
          data-testid={`static-${name}`}
        />
      ) : type === 'string' ? (
        <input
          className="input"
          value={typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value)}
          placeholder={arg?.hasDefault ? `default: ${JSON.stringify(arg.default)}` : 'Text, or ${flow_input.x} template'}
          onFocus={(e) => focusStatic(e.currentTarget)}
          onChange={(e) => setStatic(e.target.value)}
          onBlur={(e) => {
            // a ${...} placeholder turns the input into a JavaScript template string
            if (e.target.value.includes('${')) onChange(name, { type: 'javascript', expr: templateToExpr(e.target.value) });
          }}
          data-testid={`static-${name}`}
        />
      ) : (
        <JsonField value={value} onChange={setStatic} onFocus={(el) => focusStatic(el)} testId={`static-${name}`} />
      )}
      {error && <div className="error-text">{error}</div>}
    </div>
  );
});

export function InputsEditor({ transforms, signature, onChange, completions, onFocusTarget, errors, allowAdd }: InputsEditorProps) {
  const [newName, setNewName] = useState('');
  const sigNames = new Set(signature?.map((a) => a.name) ?? []);
  const extras = Object.keys(transforms).filter((n) => !sigNames.has(n));
  if (!signature?.length && !extras.length && !allowAdd) {
    return <div className="hint empty-inputs">This step takes no inputs. Add parameters to <code>main()</code> to see them here.</div>;
  }
  return (
    <div className="inputs-editor">
      {signature?.map((a) => (
        <InputRow key={a.name} name={a.name} arg={a} t={transforms[a.name]} onChange={onChange} completions={completions} onFocusTarget={onFocusTarget} error={errors?.[a.name]} />
      ))}
      {extras.map((n) => (
        <InputRow key={n} name={n} t={transforms[n]} onChange={onChange} completions={completions} onFocusTarget={onFocusTarget} error={errors?.[n]} extra={!!signature} />
      ))}
      {allowAdd && (
        <form
          className="row add-input"
          onSubmit={(e) => {
            e.preventDefault();
            const n = newName.trim();
            if (n && !(n in transforms)) onChange(n, { type: 'static', value: '' });
            setNewName('');
          }}
        >
          <input className="input" placeholder="Add input name" value={newName} onChange={(e) => setNewName(e.target.value)} />
          <button className="btn sm" type="submit">Add</button>
        </form>
      )}
    </div>
  );
}
