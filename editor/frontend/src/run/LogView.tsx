/** Streamed logs: monospace, follows the tail unless the user scrolled up. */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';

export function LogView({ text, live }: { text: string; live: boolean }) {
  const ref = useRef<HTMLPreElement>(null);
  const [follow, setFollow] = useState(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [text, follow]);
  useEffect(() => setFollow(true), [live]);
  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    setFollow(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
  };
  return (
    <div className="log-view-wrap">
      <pre className="log-view" ref={ref} onScroll={onScroll} data-testid="step-logs">
        {text || <span className="faint">{live ? 'Waiting for output…' : 'No output'}</span>}
        {live && text ? <span className="log-cursor" /> : null}
      </pre>
      {!follow && (
        <button type="button" className="btn sm log-follow" onClick={() => setFollow(true)}>
          ↓ Follow
        </button>
      )}
    </div>
  );
}
