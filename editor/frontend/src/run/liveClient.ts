/**
 * Keeps a run in sync: WebSocket first, then the snapshot, then deltas (liveState.ts).
 * On close / error / a missed pong it reconnects with backoff and re-fetches the snapshot;
 * when the run reaches a final state it re-fetches the snapshot once, then stops.
 * Everything effectful is injected so the protocol is testable with fakes.
 */
import { applyMessage, applySnapshot, initialLiveState, type LiveState } from './liveState';
import type { LiveMessage, Run } from './types';
import { isFinalRun } from './types';

export interface SocketLike {
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(): void;
}

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'done';

export interface LiveClientOptions {
  url: string;
  fetchSnapshot: () => Promise<Run>;
  openSocket?: (url: string) => SocketLike;
  onState: (state: LiveState, connection: Connection) => void;
  onError?: (message: string) => void;
  /** backoff schedule in ms; the last value repeats */
  backoff?: number[];
  /** show a snapshot even if the socket has not opened after this many ms */
  initialFetchAfter?: number;
  pingEvery?: number;
  pongTimeout?: number;
  timers?: { set: (fn: () => void, ms: number) => unknown; clear: (h: unknown) => void };
}

export function wsUrl(path: string, loc: { protocol: string; host: string } = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}${path}`;
}

export class LiveClient {
  state: LiveState = initialLiveState;
  connection: Connection = 'connecting';
  private ws: SocketLike | null = null;
  private attempt = 0;
  private stopped = false;
  private fetching = false;
  private refetchQueued = false;
  private pending: LiveMessage[] = [];
  private finalSynced = false;
  private timers: Required<LiveClientOptions>['timers'];
  private reconnectTimer: unknown = null;
  private pingTimer: unknown = null;
  private pongTimer: unknown = null;
  private initialTimer: unknown = null;
  private retryTimer: unknown = null;
  private opts: LiveClientOptions;

  constructor(opts: LiveClientOptions) {
    this.opts = opts;
    this.timers = opts.timers ?? { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as number) };
  }

  start(): void {
    this.connect();
    this.initialTimer = this.timers.set(() => {
      if (!this.state.run) void this.resync();
    }, this.opts.initialFetchAfter ?? 1500);
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.timers.clear(this.initialTimer);
    this.timers.clear(this.retryTimer);
    this.closeSocket();
  }

  /** Re-fetch the snapshot now (after a user action, or when the tab comes back). */
  refresh(): Promise<void> {
    return this.resync();
  }

  private emit(): void {
    this.opts.onState(this.state, this.connection);
  }

  private setConnection(c: Connection): void {
    if (this.connection !== c) {
      this.connection = c;
      this.emit();
    }
  }

  private connect(): void {
    if (this.stopped) return;
    const open = this.opts.openSocket ?? ((u: string) => new WebSocket(u) as unknown as SocketLike);
    let ws: SocketLike;
    try {
      ws = open(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.setConnection('live');
      this.startPing();
      void this.resync();
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.onRaw(ev.data);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.clearTimers();
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      if (this.ws !== ws) return;
      try {
        ws.close();
      } catch {
        /* already closed */
      }
    };
  }

  private closeSocket(): void {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close();
      } catch {
        /* ignore */
      }
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.connection === 'done') return;
    this.setConnection('reconnecting');
    const sched = this.opts.backoff ?? [500, 1000, 2000, 4000, 8000];
    const delay = sched[Math.min(this.attempt, sched.length - 1)];
    this.attempt++;
    this.timers.clear(this.reconnectTimer);
    this.reconnectTimer = this.timers.set(() => this.connect(), delay);
  }

  private startPing(): void {
    const every = this.opts.pingEvery ?? 20000;
    if (every <= 0) return;
    this.timers.clear(this.pingTimer);
    this.pingTimer = this.timers.set(() => {
      const ws = this.ws;
      if (!ws) return;
      try {
        ws.send(JSON.stringify({ type: 'ping' }));
      } catch {
        /* onclose follows */
      }
      this.timers.clear(this.pongTimer);
      this.pongTimer = this.timers.set(() => {
        // no pong: the connection is dead even if the browser has not noticed
        if (this.ws === ws) {
          this.closeSocket();
          this.clearTimers();
          this.scheduleReconnect();
        }
      }, this.opts.pongTimeout ?? 8000);
    }, every);
  }

  private clearTimers(): void {
    this.timers.clear(this.pingTimer);
    this.timers.clear(this.pongTimer);
    this.timers.clear(this.reconnectTimer);
  }

  private onRaw(data: unknown): void {
    let msg: LiveMessage | { type: 'pong' };
    try {
      msg = JSON.parse(String(data));
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'pong') {
      this.timers.clear(this.pongTimer);
      this.startPing();
      return;
    }
    if (msg.type !== 'run' && msg.type !== 'step' && msg.type !== 'log') return;
    this.onMessage(msg as LiveMessage);
  }

  /** Feed one decoded message (public for tests). */
  onMessage(msg: LiveMessage): void {
    if (this.fetching || !this.state.run) {
      this.pending.push(msg);
      this.state = { ...this.state, seen: Math.max(this.state.seen, msg.seq || 0) };
      return;
    }
    const next = applyMessage(this.state, msg);
    if (next === this.state) return;
    this.state = next;
    this.emit();
    if (next.run && isFinalRun(next.run.status) && !this.finalSynced) void this.resync();
  }

  private async resync(): Promise<void> {
    if (this.stopped) return;
    if (this.fetching) {
      this.refetchQueued = true;
      return;
    }
    this.fetching = true;
    this.pending = [];
    try {
      const snap = await this.opts.fetchSnapshot();
      if (this.stopped) return;
      this.state = applySnapshot(this.state, snap, this.pending);
      this.pending = [];
      this.fetching = false;
      if (this.state.run && isFinalRun(this.state.run.status)) {
        if (isFinalRun(snap.status)) {
          this.finalSynced = true;
          this.connection = 'done';
          this.clearTimers();
          this.closeSocket();
        } else {
          // the run ended while this (older) snapshot was in flight: fetch the final one
          this.refetchQueued = true;
        }
      }
      this.emit();
    } catch (e) {
      this.fetching = false;
      this.opts.onError?.((e as Error).message || 'Could not load the run');
      // messages buffered meanwhile are covered by the next snapshot; try again soon
      this.timers.clear(this.retryTimer);
      this.retryTimer = this.timers.set(() => void this.resync(), 2000);
      return;
    }
    if (this.refetchQueued && !this.finalSynced) {
      this.refetchQueued = false;
      void this.resync();
    }
  }
}
