/**
 * The editor's test run, kept live over the run WebSocket (snapshot + deltas, see src/run/liveClient.ts).
 * `merge` lets "Test this step" fold the previous test's step results into the new one-step run so the
 * prop picker keeps showing every step's last result.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api';
import { LiveClient, wsUrl, type Connection } from '../run/liveClient';
import type { Run } from '../run/types';
import type { RunLike } from '../lib/context';

export interface LiveRun {
  run: RunLike | null;
  connection: Connection | null;
  start: (id: string | number, merge?: (r: RunLike) => RunLike) => void;
  refresh: () => void;
}

export function useLiveRun(onError: (m: string) => void): LiveRun {
  const [run, setRun] = useState<RunLike | null>(null);
  const [connection, setConnection] = useState<Connection | null>(null);
  const client = useRef<LiveClient | null>(null);
  const errRef = useRef(onError);
  errRef.current = onError;

  const start = useCallback((id: string | number, merge?: (r: RunLike) => RunLike) => {
    client.current?.stop();
    const c = new LiveClient({
      url: wsUrl(`/ws/runs/${id}/`),
      fetchSnapshot: () => api.get<Run>(`runs/${id}`),
      onState: (st, conn) => {
        if (client.current !== c) return;
        setConnection(conn);
        if (st.run) setRun(merge ? merge(st.run as RunLike) : (st.run as RunLike));
      },
      onError: (m) => errRef.current(m),
      initialFetchAfter: 300,
    });
    client.current = c;
    setConnection('connecting');
    c.start();
  }, []);

  const refresh = useCallback(() => void client.current?.refresh(), []);
  useEffect(() => () => client.current?.stop(), []);
  return { run, connection, start, refresh };
}
