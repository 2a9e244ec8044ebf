/** Collapsible JSON viewer: big strings and arrays are cut with "load more"; copy button at the top. */
import { useState, type ReactNode } from 'react';

const STR_CHUNK = 400;
const ARR_CHUNK = 50;

function Str({ value }: { value: string }) {
  const [limit, setLimit] = useState(STR_CHUNK);
  const cut = value.length > limit;
  return (
    <span className="jv-str">
      "{cut ? value.slice(0, limit) : value}
      {cut && (
        <>
          …"{' '}
          <button type="button" className="jv-more" onClick={() => setLimit((l) => l * 4)}>
            load more ({(value.length - limit).toLocaleString()} chars)
          </button>
        </>
      )}
      {!cut && '"'}
    </span>
  );
}

function Scalar({ value }: { value: unknown }) {
  if (value === null) return <span className="jv-null">null</span>;
  if (typeof value === 'string') return <Str value={value} />;
  if (typeof value === 'number') return <span className="jv-num">{String(value)}</span>;
  if (typeof value === 'boolean') return <span className="jv-bool">{String(value)}</span>;
  if (value === undefined) return <span className="jv-null">undefined</span>;
  return <span>{String(value)}</span>;
}

function Node({ name, value, depth, openDepth, last }: { name?: string; value: unknown; depth: number; openDepth: number; last: boolean }) {
  const isObj = value !== null && typeof value === 'object';
  const [open, setOpen] = useState(depth < openDepth);
  const [limit, setLimit] = useState(ARR_CHUNK);
  const label: ReactNode = name !== undefined ? <span className="jv-key">{name}: </span> : null;
  if (!isObj) {
    return (
      <div className="jv-row" style={{ paddingLeft: depth * 14 }}>
        <span className="jv-toggle-space" />
        {label}
        <Scalar value={value} />
        {!last && ','}
      </div>
    );
  }
  const isArr = Array.isArray(value);
  const entries: Array<[string, unknown]> = isArr ? (value as unknown[]).map((v, i) => [String(i), v]) : Object.entries(value as object);
  const [o, c] = isArr ? ['[', ']'] : ['{', '}'];
  if (!entries.length) {
    return (
      <div className="jv-row" style={{ paddingLeft: depth * 14 }}>
        <span className="jv-toggle-space" />
        {label}
        <span className="jv-punct">{o}{c}</span>
        {!last && ','}
      </div>
    );
  }
  const shown = entries.slice(0, limit);
  return (
    <>
      <div className="jv-row jv-branch" style={{ paddingLeft: depth * 14 }} onClick={() => setOpen(!open)}>
        <span className={`jv-toggle${open ? ' open' : ''}`}>▸</span>
        {label}
        <span className="jv-punct">{o}</span>
        {!open && (
          <>
            <span className="jv-summary">{isArr ? `${entries.length} item${entries.length === 1 ? '' : 's'}` : `${entries.length} key${entries.length === 1 ? '' : 's'}`}</span>
            <span className="jv-punct">{c}</span>
            {!last && ','}
          </>
        )}
      </div>
      {open && (
        <>
          {shown.map(([k, v], i) => (
            <Node key={k} name={isArr ? undefined : k} value={v} depth={depth + 1} openDepth={openDepth} last={i === entries.length - 1} />
          ))}
          {entries.length > limit && (
            <div className="jv-row" style={{ paddingLeft: (depth + 1) * 14 }}>
              <span className="jv-toggle-space" />
              <button type="button" className="jv-more" onClick={() => setLimit((l) => l + ARR_CHUNK * 4)}>
                load more ({entries.length - limit} more)
              </button>
            </div>
          )}
          <div className="jv-row" style={{ paddingLeft: depth * 14 }}>
            <span className="jv-toggle-space" />
            <span className="jv-punct">{c}</span>
            {!last && ','}
          </div>
        </>
      )}
    </>
  );
}

export function JsonView({ value, openDepth = 2, copy = true, testId }: { value: unknown; openDepth?: number; copy?: boolean; testId?: string }) {
  const [copied, setCopied] = useState(false);
  const onCopy = () => {
    const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    void navigator.clipboard?.writeText(text).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1200);
    });
  };
  return (
    <div className="json-view" data-testid={testId}>
      {copy && (
        <button type="button" className="jv-copy" onClick={onCopy} title="Copy as JSON">
          {copied ? 'Copied' : 'Copy'}
        </button>
      )}
      <Node value={value} depth={0} openDepth={openDepth} last />
    </div>
  );
}
