/**
 * Approve / Cancel a suspended step: the resume form (from its JSON Schema), approvals received vs
 * required, who approved, and a live countdown to the timeout. Used by the run page and the
 * signed approval page.
 */
import { useMemo, useState } from 'react';
import type { JSONSchema } from '../lib/openflow';
import { SchemaForm } from './SchemaForm';
import { errorsByField, fieldsOf, initialValues, toPayload, type FormValues } from './schemaForm';
import { postSigned } from './resume';
import { formatCountdown } from './timing';
import { useNow } from './useNow';
import { approverName, type Approver } from './types';

export interface ApprovalInfoProps {
  requiredEvents?: number | null;
  receivedEvents?: number | null;
  approvers?: Approver[] | null;
  timeoutAt?: string | null;
}

export function ApprovalProgress({ requiredEvents, receivedEvents, approvers, timeoutAt }: ApprovalInfoProps) {
  const now = useNow(!!timeoutAt);
  const req = Math.max(1, Number(requiredEvents ?? 1));
  const got = Math.max(0, Number(receivedEvents ?? 0));
  const left = formatCountdown(timeoutAt, now);
  const names = (approvers ?? []).map(approverName);
  return (
    <div className="approval-progress" data-testid="approval-progress">
      <div className="ap-row">
        <span className="ap-count">
          <strong data-testid="approvals-received">{got}</strong> of <strong>{req}</strong> approval{req === 1 ? '' : 's'}
        </span>
        <span className="ap-dots" aria-hidden>
          {Array.from({ length: Math.min(req, 12) }, (_, i) => (
            <span key={i} className={`ap-dot${i < got ? ' on' : ''}`} />
          ))}
        </span>
        {left && (
          <span className={`ap-timeout${left === 'expired' ? ' expired' : ''}`} title={timeoutAt ?? ''} data-testid="approval-countdown">
            {left === 'expired' ? 'Timed out' : <>Times out in <span className="mono">{left}</span></>}
          </span>
        )}
      </div>
      {names.length > 0 && (
        <div className="ap-approvers">
          Approved by {names.map((n, i) => (
            <span key={i} className="ap-approver">{n}</span>
          ))}
        </div>
      )}
    </div>
  );
}

export interface ApprovalActionsProps extends ApprovalInfoProps {
  resumeUrl: string;
  cancelUrl: string;
  schema: JSONSchema | null;
  hideCancel?: boolean;
  approver?: string | null;
  /** called after a successful POST */
  onDone?: (action: 'approve' | 'cancel') => void;
  /** called on 410 / 403 (the link is no longer usable) */
  onGone?: (status: number, message: string) => void;
  showProgress?: boolean;
}

export function ApprovalActions(props: ApprovalActionsProps) {
  const { schema } = props;
  const [values, setValues] = useState<FormValues>(() => initialValues(schema));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<null | 'approve' | 'cancel'>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const hasFields = useMemo(() => fieldsOf(schema).length > 0, [schema]);

  const send = async (action: 'approve' | 'cancel') => {
    setMessage(null);
    const { payload, errors: errs } = toPayload(schema, values);
    if (action === 'approve' && errs.length) {
      setErrors(errorsByField(errs));
      setMessage('Please fix the highlighted fields.');
      return;
    }
    setErrors({});
    setBusy(action);
    const res = await postSigned(action === 'approve' ? props.resumeUrl : props.cancelUrl, hasFields ? payload : null, props.approver);
    setBusy(null);
    setConfirmCancel(false);
    if (res.ok) {
      props.onDone?.(action);
      return;
    }
    if (res.status === 400 && res.errors.length) setErrors(errorsByField(res.errors));
    setMessage(res.message);
    if (res.status === 410 || res.status === 403) props.onGone?.(res.status, res.message);
  };

  return (
    <div className="approval-actions" data-testid="approval-actions">
      {props.showProgress !== false && (
        <ApprovalProgress requiredEvents={props.requiredEvents} receivedEvents={props.receivedEvents} approvers={props.approvers} timeoutAt={props.timeoutAt} />
      )}
      {hasFields && (
        <form className="approval-form" onSubmit={(e) => { e.preventDefault(); void send('approve'); }} noValidate>
          <SchemaForm schema={schema} values={values} errors={errors} onChange={setValues} disabled={!!busy} />
        </form>
      )}
      {message && <div className="ap-message" role="alert">{message}</div>}
      <div className="ap-buttons">
        <button type="button" className="btn primary approve-btn" data-testid="approve" disabled={!!busy} onClick={() => void send('approve')}>
          {busy === 'approve' ? <span className="spinner" /> : <CheckIcon />} Approve
        </button>
        {!props.hideCancel && !confirmCancel && (
          <button type="button" className="btn danger" data-testid="cancel-approval" disabled={!!busy} onClick={() => setConfirmCancel(true)}>
            <CrossIcon /> Cancel
          </button>
        )}
        {!props.hideCancel && confirmCancel && (
          <span className="ap-confirm">
            <span>Reject and stop the flow?</span>
            <button type="button" className="btn danger solid sm" data-testid="confirm-cancel-approval" disabled={!!busy} onClick={() => void send('cancel')}>
              {busy === 'cancel' ? <span className="spinner" /> : null} Yes, cancel
            </button>
            <button type="button" className="btn ghost sm" onClick={() => setConfirmCancel(false)}>No</button>
          </span>
        )}
      </div>
    </div>
  );
}

export function CheckIcon({ size = 14 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2.4} strokeLinecap="round" strokeLinejoin="round" aria-hidden>
      <path d="m5 12 5 5 9-10" />
    </svg>
  );
}

export function CrossIcon({ size = 14 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2.4} strokeLinecap="round" aria-hidden>
      <path d="M6 6l12 12M18 6 6 18" />
    </svg>
  );
}
