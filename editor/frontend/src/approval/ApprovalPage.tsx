/** /approve/<token>: approve or cancel a suspended step from a signed link, with or without an account. */
import { useMemo, useState, type ReactNode } from 'react';
import '../run/run.css';
import './approval.css';
import type { PageProps } from '../props';
import { configureApi } from '../api';
import type { JSONSchema } from '../lib/openflow';
import { ApprovalActions, ApprovalProgress, CheckIcon, CrossIcon } from '../run/ApprovalActions';
import { JsonView } from '../run/JsonView';
import { ThemeToggle } from '../run/AppBar';
import { resumeFormSchema, type Approver } from '../run/types';

export type ApprovalState = 'pending' | 'used' | 'expired' | 'finished' | 'forbidden';

export interface ApprovalProps extends PageProps {
  state?: ApprovalState;
  message?: string;
  run_id?: string;
  flow_path?: string;
  flow_summary?: string;
  step?: string;
  step_summary?: string;
  args?: unknown;
  resume_form?: JSONSchema | { schema?: JSONSchema } | null;
  hide_cancel?: boolean;
  required_events?: number;
  received_events?: number;
  approvers?: Approver[];
  timeout_at?: string | null;
  resume_url?: string;
  cancel_url?: string;
  approver?: string | null;
  user_auth_required?: boolean;
}

const STATE_TEXT: Record<Exclude<ApprovalState, 'pending'>, { title: string; text: string; tone: string }> = {
  used: { title: 'This link was already used', text: 'Someone already answered this approval request with this link. Nothing more to do.', tone: 'neutral' },
  expired: { title: 'This approval request has expired', text: 'The step waited too long and timed out, so the link no longer works.', tone: 'warning' },
  finished: { title: 'This run is no longer waiting', text: 'The run has moved on or finished; there is nothing left to approve.', tone: 'neutral' },
  forbidden: { title: 'You may not answer this request', text: 'This link is not valid, or this approval needs a signed-in user who is allowed to approve.', tone: 'danger' },
};

function Shell({ children, props }: { children: ReactNode; props: ApprovalProps }) {
  return (
    <div className="approval-page">
      <header className="ap-topbar">
        <span className="brand">
          <span className="brand-logo">
            <svg width="13" height="13" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2.6" strokeLinecap="round" strokeLinejoin="round"><path d="M5 6h6v4H5zM13 14h6v4h-6zM8 10v2a2 2 0 0 0 2 2h3" /></svg>
          </span>
          OpenFlow Studio
        </span>
        <span className="grow" />
        {props.user && <span className="muted ap-user">Signed in as {props.user.username}</span>}
        <ThemeToggle />
      </header>
      <main className="ap-main">{children}</main>
    </div>
  );
}

function StateIcon({ tone }: { tone: string }) {
  return (
    <span className={`ap-state-icon tone-${tone}`}>
      {tone === 'success' ? <CheckIcon size={26} /> : tone === 'danger' || tone === 'canceled' ? <CrossIcon size={24} /> : (
        <svg width="26" height="26" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2.2" strokeLinecap="round"><circle cx="12" cy="12" r="9" /><path d="M12 7v5l3 2" /></svg>
      )}
    </span>
  );
}

export default function ApprovalPage({ props: raw }: { props: PageProps }) {
  const props = raw as ApprovalProps;
  useMemo(() => configureApi({ csrfToken: props.csrf_token, base: props.urls?.api }), [props.csrf_token, props.urls?.api]);
  const [outcome, setOutcome] = useState<null | 'approve' | 'cancel'>(null);
  const [gone, setGone] = useState<{ status: number; message: string } | null>(null);
  const [name, setName] = useState('');
  const schema = resumeFormSchema(props.resume_form ?? null);
  const state: ApprovalState = props.state ?? 'pending';
  const approver = props.approver || (props.user ? null : name.trim() || null);
  const flowTitle = props.flow_summary?.trim() || props.flow_path || 'A flow';
  const stepTitle = props.step_summary?.trim() || props.step || 'a step';

  if (outcome) {
    return (
      <Shell props={props}>
        <div className="ap-card ap-done" data-testid="approval-done" data-outcome={outcome}>
          <StateIcon tone={outcome === 'approve' ? 'success' : 'canceled'} />
          <h1>{outcome === 'approve' ? 'Approved' : 'Canceled'}</h1>
          <p className="muted">
            {outcome === 'approve'
              ? <>Thank you. <strong>{flowTitle}</strong> continues{(props.required_events ?? 1) > (props.received_events ?? 0) + 1 ? ' once every required approval is in' : ''}.</>
              : <>You rejected this step; <strong>{flowTitle}</strong> stops here.</>}
          </p>
          {props.user && props.run_id && <a className="btn" href={`${props.urls?.runs ?? '/runs/'}${props.run_id}`}>Open the run</a>}
        </div>
      </Shell>
    );
  }

  if (state !== 'pending' || gone) {
    const key: Exclude<ApprovalState, 'pending'> = gone ? (gone.status === 403 ? 'forbidden' : 'used') : (state as Exclude<ApprovalState, 'pending'>);
    const t = STATE_TEXT[key];
    return (
      <Shell props={props}>
        <div className={`ap-card ap-state tone-${t.tone}`} data-testid="approval-state" data-state={key}>
          <StateIcon tone={t.tone} />
          <h1>{t.title}</h1>
          <p className="muted">{props.message || gone?.message || t.text}</p>
          {(props.flow_summary || props.flow_path) && (
            <p className="ap-context">
              {flowTitle}{props.step ? <> · step <span className="node-id">{props.step}</span></> : null}
            </p>
          )}
          {key === 'forbidden' && !props.user && (
            <a className="btn primary" href={`/login/?next=${encodeURIComponent(location.pathname + location.search)}`}>Sign in</a>
          )}
        </div>
      </Shell>
    );
  }

  const needLogin = props.user_auth_required && !props.user;
  return (
    <Shell props={props}>
      <div className="ap-card" data-testid="approval-card">
        <div className="ap-eyebrow"><span className="ap-pulse" /> Approval requested</div>
        <h1 className="ap-title" data-testid="approval-flow">{flowTitle}</h1>
        {props.flow_path && props.flow_summary && <div className="ap-path mono faint">{props.flow_path}</div>}
        <div className="ap-what">
          <span className="label">Step waiting for you</span>
          <div className="ap-step"><strong>{stepTitle}</strong>{props.step && props.step_summary && <span className="node-id">{props.step}</span>}</div>
        </div>
        <ApprovalProgress requiredEvents={props.required_events} receivedEvents={props.received_events} approvers={props.approvers} timeoutAt={props.timeout_at} />
        {props.args !== undefined && props.args !== null && (
          <details className="ap-args" data-testid="approval-args">
            <summary>Run inputs</summary>
            <JsonView value={props.args} openDepth={1} />
          </details>
        )}
        <hr className="ap-rule" />
        {needLogin ? (
          <div className="ap-login">
            <p>This approval needs a signed-in user.</p>
            <a className="btn primary" href={`/login/?next=${encodeURIComponent(location.pathname + location.search)}`}>Sign in to answer</a>
          </div>
        ) : (
          <>
            {props.approver ? (
              <div className="ap-as muted">Answering as <strong>{props.approver}</strong></div>
            ) : props.user ? (
              <div className="ap-as muted">Answering as <strong>{props.user.username}</strong></div>
            ) : (
              <div className="field ap-name">
                <label htmlFor="ap-name">Your name <span className="faint">(optional, recorded with your answer)</span></label>
                <input id="ap-name" className="input" value={name} onChange={(e) => setName(e.target.value)} placeholder="anonymous" />
              </div>
            )}
            <ApprovalActions
              resumeUrl={props.resume_url ?? ''}
              cancelUrl={props.cancel_url ?? ''}
              schema={schema}
              hideCancel={props.hide_cancel}
              approver={approver}
              showProgress={false}
              onDone={setOutcome}
              onGone={(status, message) => setGone({ status, message })}
            />
          </>
        )}
      </div>
      <p className="ap-foot faint">Signed link · no account needed{props.user_auth_required ? ' (except for this request)' : ''}</p>
    </Shell>
  );
}
