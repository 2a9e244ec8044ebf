import { describe, expect, it } from 'vitest';
import { LiveClient, wsUrl, type SocketLike } from './liveClient';
import type { Run } from './types';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(d: string) {
    this.sent.push(d);
  }
  close() {
    this.closed = true;
    this.onclose?.({});
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  push(m: unknown) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
  drop() {
    this.onclose?.({});
  }
}

class FakeTimers {
  now = 0;
  items: Array<{ at: number; fn: () => void; id: number }> = [];
  n = 0;
  set = (fn: () => void, ms: number) => {
    const id = ++this.n;
    this.items.push({ at: this.now + ms, fn, id });
    return id;
  };
  clear = (h: unknown) => {
    this.items = this.items.filter((i) => i.id !== h);
  };
  advance(ms: number) {
    const target = this.now + ms;
    for (;;) {
      this.items.sort((a, b) => a.at - b.at);
      const next = this.items[0];
      if (!next || next.at > target) break;
      this.items.shift();
      this.now = next.at;
      next.fn();
    }
    this.now = target;
  }
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function setup(snapshots: Run[]) {
  const sockets: FakeSocket[] = [];
  const timers = new FakeTimers();
  let fetches = 0;
  const resolvers: Array<() => void> = [];
  const client = new LiveClient({
    url: 'ws://x/ws/runs/r1/',
    openSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    fetchSnapshot: () => {
      const snap = snapshots[Math.min(fetches, snapshots.length - 1)];
      fetches++;
      return new Promise<Run>((res) => resolvers.push(() => res(structuredClone(snap))));
    },
    onState: () => {},
    timers,
    backoff: [100, 200],
    pingEvery: 0,
  });
  return { client, sockets, timers, resolvers, fetches: () => fetches };
}

const run = (status: Run['status'], stepStatus: Run['steps'][0]['status'] = 'running'): Run => ({
  id: 'r1', flow_path: 'f', status, suspended: null,
  steps: [{ key: 'a', module_id: 'a', type: 'rawscript', status: stepStatus, attempts: 1 }],
});

describe('LiveClient', () => {
  it('opens the socket first, then fetches the snapshot, then applies deltas', async () => {
    const t = setup([run('running')]);
    t.client.start();
    expect(t.fetches()).toBe(0);
    t.sockets[0].open();
    expect(t.fetches()).toBe(1);
    t.sockets[0].push({ type: 'log', seq: 1, run_id: 'r1', key: 'a', text: 'early' });
    t.resolvers.shift()!();
    await flush();
    expect(t.client.state.run?.status).toBe('running');
    t.sockets[0].push({ type: 'log', seq: 2, run_id: 'r1', key: 'a', text: 'late' });
    expect(t.client.state.run?.steps[0].logs).toBe('earlylate');
    expect(t.client.connection).toBe('live');
  });

  it('reconnects with backoff after a drop and re-fetches the snapshot', async () => {
    const t = setup([run('running'), run('running', 'success')]);
    t.client.start();
    t.sockets[0].open();
    t.resolvers.shift()!();
    await flush();
    t.sockets[0].drop();
    expect(t.client.connection).toBe('reconnecting');
    t.timers.advance(99);
    expect(t.sockets).toHaveLength(1);
    t.timers.advance(1);
    expect(t.sockets).toHaveLength(2);
    t.sockets[1].open();
    expect(t.fetches()).toBe(2);
    t.resolvers.shift()!();
    await flush();
    expect(t.client.state.run?.steps[0].status).toBe('success');
  });

  it('re-fetches once on a final run message, then stops', async () => {
    const t = setup([run('running'), run('success', 'success')]);
    t.client.start();
    t.sockets[0].open();
    t.resolvers.shift()!();
    await flush();
    t.sockets[0].push({ type: 'run', seq: 5, run_id: 'r1', run: { id: 'r1', status: 'success' } });
    expect(t.fetches()).toBe(2);
    t.resolvers.shift()!();
    await flush();
    expect(t.client.state.run?.steps[0].status).toBe('success');
    expect(t.client.connection).toBe('done');
    expect(t.sockets[0].closed).toBe(true);
    t.timers.advance(10000);
    expect(t.sockets).toHaveLength(1);
  });

  it('fetches again when the run ends while a snapshot is in flight', async () => {
    const t = setup([run('running'), run('running'), run('success', 'success')]);
    t.client.start();
    t.sockets[0].open();
    t.resolvers.shift()!();
    await flush();
    void t.client.refresh(); // e.g. after an approval
    t.sockets[0].push({ type: 'run', seq: 9, run_id: 'r1', run: { id: 'r1', status: 'success' } });
    t.resolvers.shift()!(); // the stale, still-running snapshot
    await flush();
    expect(t.fetches()).toBe(3);
    t.resolvers.shift()!();
    await flush();
    expect(t.client.state.run?.status).toBe('success');
    expect(t.client.state.run?.steps[0].status).toBe('success');
    expect(t.client.connection).toBe('done');
  });

  it('shows a snapshot even when the socket never opens', async () => {
    const t = setup([run('running')]);
    t.client.start();
    t.timers.advance(1500);
    expect(t.fetches()).toBe(1);
    t.resolvers.shift()!();
    await flush();
    expect(t.client.state.run).not.toBeNull();
  });

  it('treats a missing pong as a dead connection', async () => {
    const sockets: FakeSocket[] = [];
    const timers = new FakeTimers();
    const client = new LiveClient({
      url: 'ws://x', timers, backoff: [50], pingEvery: 1000, pongTimeout: 500,
      openSocket: () => {
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
      fetchSnapshot: () => Promise.resolve(run('running')),
      onState: () => {},
    });
    client.start();
    sockets[0].open();
    await flush();
    timers.advance(1000);
    expect(sockets[0].sent).toEqual(['{"type":"ping"}']);
    sockets[0].push({ type: 'pong' });
    timers.advance(1000);
    expect(sockets[0].sent).toHaveLength(2);
    timers.advance(500);
    expect(client.connection).toBe('reconnecting');
    timers.advance(50);
    expect(sockets).toHaveLength(2);
  });
});

describe('wsUrl', () => {
  it('follows the page protocol', () => {
    expect(wsUrl('/ws/runs/1/', { protocol: 'https:', host: 'h:1' })).toBe('wss://h:1/ws/runs/1/');
    expect(wsUrl('/ws/runs/1/', { protocol: 'http:', host: 'h' })).toBe('ws://h/ws/runs/1/');
  });
});
