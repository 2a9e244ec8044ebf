/** Advanced step settings as forms: retry, sleep, suspend, stop_after_if, skip_if, timeout, cache, continue_on_error, mock. */
import { useState, type ReactNode } from 'react';
import type { FlowModule, InputTransform, JSONSchema, Retry, Suspend } from '../lib/openflow';
import { CodeEditor, type CompletionTree } from './CodeEditor';
import { SchemaEditor } from './SchemaEditor';

type Patch = (fn: (m: FlowModule) => FlowModule, key?: string) => void;

function Section({ title, enabled, onToggle, children, hint, testId }: { title: string; enabled: boolean; onToggle: (on: boolean) => void; children?: ReactNode; hint?: string; testId?: string }) {
  return (
    <div className={`adv-section${enabled ? ' on' : ''}`} data-testid={testId}>
      <label className="adv-head">
        <input type="checkbox" checked={enabled} onChange={(e) => onToggle(e.target.checked)} />
        <span className="adv-title">{title}</span>
        {hint && <span className="hint">{hint}</span>}
      </label>
      {enabled && children && <div className="adv-body">{children}</div>}
    </div>
  );
}

function Num({ label, value, onChange, min, step }: { label: string; value: number | undefined; onChange: (v: number | undefined) => void; min?: number; step?: number }) {
  return (
    <div className="field">
      <label>{label}</label>
      <input className="input" type="number" min={min} step={step ?? 1} value={value ?? ''} onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))} />
    </div>
  );
}

function without<T extends object>(o: T, k: keyof T): T {
  const c = { ...o };
  delete c[k];
  return c;
}

/** InputTransform or bare number editor (sleep, timeout). */
function TransformNumber({ label, value, onChange, completions }: { label: string; value: InputTransform | number | undefined; onChange: (v: InputTransform) => void; completions: () => CompletionTree }) {
  const t: InputTransform = typeof value === 'number' ? { type: 'static', value } : value ?? { type: 'static', value: 0 };
  return (
    <div className="field">
      <div className="row">
        <label className="label grow">{label}</label>
        <div className="seg">
          <button type="button" className={t.type === 'static' ? 'on' : ''} onClick={() => onChange({ type: 'static', value: 0 })}>Static</button>
          <button type="button" className={t.type === 'javascript' ? 'on' : ''} onClick={() => onChange({ type: 'javascript', expr: '' })}>JS</button>
        </div>
      </div>
      {t.type === 'javascript' ? (
        <CodeEditor lang="javascript" compact value={t.expr} onChange={(expr) => onChange({ type: 'javascript', expr })} completions={completions} />
      ) : (
        <input className="input" type="number" min={0} value={typeof (t as { value?: unknown }).value === 'number' ? ((t as { value: number }).value) : ''} onChange={(e) => onChange({ type: 'static', value: Number(e.target.value) })} />
      )}
    </div>
  );
}

export function AdvancedForm({ module: m, patch, completions, isLoop }: { module: FlowModule; patch: Patch; completions: () => CompletionTree; isLoop: boolean }) {
  const set = <K extends keyof FlowModule>(k: K, v: FlowModule[K] | undefined, key?: string) =>
    patch((mm) => (v === undefined ? without(mm, k) : { ...mm, [k]: v }), key);
  const retry: Retry = m.retry ?? {};
  const suspend: Suspend = m.suspend ?? {};
  const [formOpen, setFormOpen] = useState(!!suspend.resume_form?.schema);
  return (
    <div className="advanced-form">
      <Section title="Retries" testId="adv-retry" enabled={!!m.retry} onToggle={(on) => set('retry', on ? { constant: { attempts: 2, seconds: 5 } } : undefined)} hint="re-run the step when it fails">
        <div className="grid2">
          <Num label="Constant: attempts" min={0} value={retry.constant?.attempts} onChange={(v) => set('retry', { ...retry, constant: { ...retry.constant, attempts: v } }, 'retry')} />
          <Num label="Constant: seconds" min={0} value={retry.constant?.seconds} onChange={(v) => set('retry', { ...retry, constant: { ...retry.constant, seconds: v } }, 'retry')} />
          <Num label="Exponential: attempts" min={0} value={retry.exponential?.attempts} onChange={(v) => set('retry', { ...retry, exponential: { multiplier: 1, seconds: 2, ...retry.exponential, attempts: v } }, 'retry')} />
          <Num label="Exponential: base seconds" min={0} value={retry.exponential?.seconds} onChange={(v) => set('retry', { ...retry, exponential: { attempts: 0, multiplier: 1, ...retry.exponential, seconds: v } }, 'retry')} />
          <Num label="Exponential: multiplier" min={0} value={retry.exponential?.multiplier} onChange={(v) => set('retry', { ...retry, exponential: { attempts: 0, seconds: 2, ...retry.exponential, multiplier: v } }, 'retry')} />
          <Num label="Random factor %" min={0} value={retry.exponential?.random_factor} onChange={(v) => set('retry', { ...retry, exponential: { attempts: 0, seconds: 2, multiplier: 1, ...retry.exponential, random_factor: v } }, 'retry')} />
        </div>
        <div className="field">
          <label>Retry only if (JS, sees <code>result</code>)</label>
          <CodeEditor lang="javascript" compact value={retry.retry_if?.expr ?? ''} placeholder="optional" completions={completions}
            onChange={(expr) => set('retry', expr ? { ...retry, retry_if: { expr } } : without(retry, 'retry_if'), 'retry_if')} />
        </div>
      </Section>

      <Section title="Sleep after the step" testId="adv-sleep" enabled={!!m.sleep} onToggle={(on) => set('sleep', on ? { type: 'static', value: 60 } : undefined)}>
        <TransformNumber label="Seconds" value={m.sleep} onChange={(v) => set('sleep', v, 'sleep')} completions={completions} />
      </Section>

      <Section title="Suspend / approval" testId="adv-suspend" enabled={!!m.suspend} onToggle={(on) => set('suspend', on ? { required_events: 1, timeout: 1800 } : undefined)} hint="wait for approval after the step">
        <div className="grid2">
          <Num label="Required approvals" min={1} value={suspend.required_events} onChange={(v) => set('suspend', { ...suspend, required_events: v }, 'suspend')} />
          <Num label="Timeout (seconds)" min={1} value={suspend.timeout} onChange={(v) => set('suspend', { ...suspend, timeout: v }, 'suspend')} />
        </div>
        {(
          [
            ['user_auth_required', 'Require a logged-in approver'],
            ['self_approval_disabled', 'Forbid self-approval'],
            ['hide_cancel', 'Hide the Cancel button'],
            ['continue_on_disapprove_timeout', 'Continue on disapproval / timeout'],
          ] as const
        ).map(([k, label]) => (
          <label key={k} className="checkbox block">
            <input type="checkbox" checked={!!suspend[k]} onChange={(e) => set('suspend', e.target.checked ? { ...suspend, [k]: true } : without(suspend, k))} /> {label}
          </label>
        ))}
        <label className="checkbox block">
          <input
            type="checkbox"
            checked={formOpen}
            onChange={(e) => {
              setFormOpen(e.target.checked);
              set('suspend', e.target.checked ? { ...suspend, resume_form: { schema: suspend.resume_form?.schema ?? { type: 'object', properties: {}, required: [] } } } : without(suspend, 'resume_form'));
            }}
          />{' '}
          Approval form (fields the approver fills in)
        </label>
        {formOpen && (
          <SchemaEditor
            schema={(suspend.resume_form?.schema as JSONSchema) ?? { type: 'object', properties: {}, required: [] }}
            onChange={(schema) => set('suspend', { ...suspend, resume_form: { ...suspend.resume_form, schema } }, 'resume_form')}
          />
        )}
      </Section>

      <Section title="Early stop" testId="adv-stop" enabled={!!m.stop_after_if} onToggle={(on) => set('stop_after_if', on ? { expr: 'result === null', skip_if_stopped: false } : undefined)} hint={isLoop ? 'breaks the loop' : 'stop the flow after this step'}>
        <div className="field">
          <label>Stop if (JS, sees <code>result</code>)</label>
          <CodeEditor lang="javascript" compact value={m.stop_after_if?.expr ?? ''} completions={completions} onChange={(expr) => set('stop_after_if', { ...m.stop_after_if, expr }, 'stop_expr')} />
        </div>
        <label className="checkbox block">
          <input type="checkbox" checked={!!m.stop_after_if?.skip_if_stopped} onChange={(e) => set('stop_after_if', { ...m.stop_after_if!, skip_if_stopped: e.target.checked })} /> Label the run as skipped
        </label>
        <div className="field">
          <label>Error message (fail the flow instead)</label>
          <input className="input" value={m.stop_after_if?.error_message ?? ''} onChange={(e) => set('stop_after_if', e.target.value ? { ...m.stop_after_if!, error_message: e.target.value } : without(m.stop_after_if!, 'error_message'), 'stop_msg')} />
        </div>
      </Section>

      <Section title="Skip if" testId="adv-skip" enabled={!!m.skip_if} onToggle={(on) => set('skip_if', on ? { expr: 'false' } : undefined)} hint="behaves like identity when true">
        <CodeEditor lang="javascript" compact value={m.skip_if?.expr ?? ''} completions={completions} onChange={(expr) => set('skip_if', { expr }, 'skip_expr')} />
      </Section>

      <Section title="Timeout" testId="adv-timeout" enabled={m.timeout !== undefined} onToggle={(on) => set('timeout', on ? 300 : undefined)}>
        <TransformNumber label="Seconds" value={m.timeout} onChange={(v) => set('timeout', v.type === 'static' && typeof (v as { value?: unknown }).value === 'number' ? ((v as { value: number }).value) : v, 'timeout')} completions={completions} />
      </Section>

      {(m.value.type === 'rawscript' || m.value.type === 'script') && (
        <Section title="Cache result" testId="adv-cache" enabled={m.cache_ttl !== undefined} onToggle={(on) => set('cache_ttl', on ? 300 : undefined)} hint="reuse a success for the same inputs">
          {/* An emptied field keeps the last value: clearing it must not switch the cache off mid-edit. */}
          <Num label="Keep it for (seconds)" value={m.cache_ttl} min={1} onChange={(v) => { if (v !== undefined && v >= 1) set('cache_ttl', Math.round(v), 'cache_ttl'); }} />
        </Section>
      )}

      <Section title="Continue on error" testId="adv-continue" enabled={!!m.continue_on_error} onToggle={(on) => set('continue_on_error', on ? true : undefined)} hint="the error becomes the next step's previous_result" />

      <Section title="Mock" testId="adv-mock" enabled={!!m.mock?.enabled} onToggle={(on) => set('mock', on ? { enabled: true, return_value: m.mock?.return_value ?? null } : undefined)} hint="don't run; return this value">
        <MockValue value={m.mock?.return_value} onChange={(v) => set('mock', { enabled: true, return_value: v }, 'mock')} />
      </Section>
    </div>
  );
}

function MockValue({ value, onChange }: { value: unknown; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(JSON.stringify(value ?? null, null, 2));
  const [err, setErr] = useState('');
  return (
    <>
      <textarea
        className={`input${err ? ' invalid' : ''}`}
        rows={4}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          try {
            onChange(JSON.parse(e.target.value));
            setErr('');
          } catch (x) {
            setErr((x as Error).message);
          }
        }}
      />
      {err && <div className="error-text">{err}</div>}
    </>
  );
}
