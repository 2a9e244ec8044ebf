import { memo, useContext, type MouseEvent } from 'react';
import { Handle, Position, type NodeProps, type Node } from '@xyflow/react';
import { KindIcon, Icon } from './icons';
import { kindLabel } from '../lib/kinds';
import { pointKey } from '../lib/openflow';
import { GraphStoreContext, formatDuration, useGraphStore } from './store';
import { HEADER_H, JOIN_INSET, type GNodeData } from './layout';

type GNodeProps = NodeProps<Node<GNodeData>>;

const hidden = { opacity: 0, width: 1, height: 1, minWidth: 1, minHeight: 1, border: 0, background: 'transparent' } as const;

const FLAG_LABEL: Record<string, string> = {
  retry: 'Retries', sleep: 'Sleeps after', suspend: 'Waits for approval', stop: 'Stop condition', skip: 'Skip condition',
  mock: 'Mocked', continue: 'Continues on error', parallel: 'Parallel',
};

function useNodeState(id: string) {
  const status = useGraphStore((s) => s.status[id]);
  const selected = useGraphStore((s) => s.selected === id);
  const errors = useGraphStore((s) => s.errors[id]);
  return { status, selected, errors };
}

function NodeActions({ id }: { id: string }) {
  const store = useContext(GraphStoreContext);
  const readOnly = useGraphStore((s) => s.readOnly);
  if (readOnly) return null;
  const act = (a: 'delete' | 'duplicate') => (e: MouseEvent) => {
    e.stopPropagation();
    store.handlers.onNodeAction?.(id, a);
  };
  return (
    <div className="node-actions nodrag">
      <button type="button" title="Duplicate (Ctrl+D)" onClick={act('duplicate')}><Icon name="copy" size={13} /></button>
      <button type="button" title="Delete (Del)" className="danger" onClick={act('delete')}><Icon name="trash" size={13} /></button>
    </div>
  );
}

function StatusLine({ status }: { status?: { status: string; duration_ms?: number | null; badge?: string } }) {
  if (!status) return null;
  return (
    <span className={`node-status-pill st-${status.status}`}>
      {status.status === 'running' ? <span className="spinner" /> : <span className="dot" />}
      {status.badge ?? status.status}
      {status.duration_ms != null && <span className="dur">{formatDuration(status.duration_ms)}</span>}
    </span>
  );
}

function CardBody({ data, id, status, errors }: { data: GNodeData; id: string; status?: { status: string; duration_ms?: number | null; badge?: string }; errors?: string[] }) {
  return (
    <>
      <KindIcon kind={data.isFailure ? 'failure' : data.kind} />
      <div className="node-text">
        <div className="node-title" title={data.title}>{data.title}</div>
        <div className="node-sub">
          <span className="node-id">{id}</span>
          <span className="node-kind">{data.subtitle ?? (data.isFailure ? 'Error handler' : kindLabel(data.kind))}</span>
        </div>
      </div>
      <div className="node-right">
        {errors?.length ? (
          <span className="node-error-badge" title={errors.join('\n')}><Icon name="alert" size={14} /></span>
        ) : null}
        <StatusLine status={status} />
        {!status && data.flags?.length ? (
          <span className="node-flags">
            {data.flags.slice(0, 3).map((f) => (
              <span key={f} className={`flag flag-${f}`} title={FLAG_LABEL[f] ?? f} />
            ))}
          </span>
        ) : null}
      </div>
    </>
  );
}

let firstPaintMarked = false;

export const StepNode = memo(function StepNode({ id, data }: GNodeProps) {
  if (!firstPaintMarked) {
    firstPaintMarked = true;
    performance.mark('ofs-first-node');
  }
  const { status, selected, errors } = useNodeState(id);
  const cls = ['flow-node', 'step-node', `kind-${data.kind}`, selected && 'selected', status && `st-${status.status}`, errors?.length && 'has-error', data.isFailure && 'failure-node']
    .filter(Boolean)
    .join(' ');
  return (
    <div className={cls} data-testid={`node-${id}`} data-module-id={id}>
      {!data.isFailure && <Handle type="target" position={Position.Top} id="in" style={hidden} isConnectable={false} />}
      {data.isFailure && <div className="failure-tag">On failure</div>}
      <CardBody data={data} id={id} status={status} errors={errors} />
      <NodeActions id={id} />
      {!data.isFailure && <Handle type="source" position={Position.Bottom} id="out" style={hidden} isConnectable={false} />}
    </div>
  );
});

export const ContainerNode = memo(function ContainerNode({ id, data }: GNodeProps) {
  const { status, selected, errors } = useNodeState(id);
  const cls = ['container-node', `kind-${data.kind}`, selected && 'selected', status && `st-${status.status}`].filter(Boolean).join(' ');
  return (
    <div className={cls} data-testid={`node-${id}`} data-module-id={id}>
      <Handle type="target" position={Position.Top} id="in" style={hidden} isConnectable={false} />
      <div className={['flow-node', 'container-header', selected && 'selected', errors?.length && 'has-error', status && `st-${status.status}`].filter(Boolean).join(' ')}>
        <CardBody data={data} id={id} status={status} errors={errors} />
        <NodeActions id={id} />
      </div>
      <Handle type="source" position={Position.Bottom} id="body" style={{ ...hidden, top: HEADER_H, bottom: 'auto' }} isConnectable={false} />
      <Handle type="target" position={Position.Top} id="join" style={{ ...hidden, top: 'auto', bottom: JOIN_INSET }} isConnectable={false} />
      <div className="join-dot" style={{ bottom: JOIN_INSET - 4 }} />
      <Handle type="source" position={Position.Bottom} id="out" style={hidden} isConnectable={false} />
    </div>
  );
});

export const BranchLabelNode = memo(function BranchLabelNode({ data }: GNodeProps) {
  const selected = useGraphStore((s) => s.selected === data.moduleId);
  const isDefault = data.slot === 'default';
  return (
    <div className={`branch-label${isDefault ? ' is-default' : ''}${selected ? ' parent-selected' : ''}`} title={data.title}>
      <Handle type="target" position={Position.Top} id="in" style={hidden} isConnectable={false} />
      <span className="branch-label-text">{data.title}</span>
      <Handle type="source" position={Position.Bottom} id="out" style={hidden} isConnectable={false} />
    </div>
  );
});

export const EmptyNode = memo(function EmptyNode({ data }: GNodeProps) {
  const store = useContext(GraphStoreContext);
  const key = data.point ? pointKey(data.point) : '';
  const active = useGraphStore((s) => s.dropTarget === key);
  const dragging = useGraphStore((s) => s.dragging);
  const readOnly = useGraphStore((s) => s.readOnly);
  const onClick = (e: MouseEvent) => {
    e.stopPropagation();
    if (!readOnly && data.point) store.handlers.onInsertClick?.(data.point, { x: e.clientX, y: e.clientY });
  };
  return (
    <div className={`empty-node nodrag${active ? ' drop-active' : ''}${dragging ? ' dragging' : ''}`} data-drop-key={key} onClick={onClick}>
      <Handle type="target" position={Position.Top} id="in" style={hidden} isConnectable={false} />
      {readOnly ? <span>Empty</span> : <><Icon name="plus" size={14} /><span>{active ? 'Drop here' : 'Add a step'}</span></>}
      <Handle type="source" position={Position.Bottom} id="out" style={hidden} isConnectable={false} />
    </div>
  );
});

export const IONode = memo(function IONode({ id, data }: GNodeProps) {
  const type = data.kind === 'input' ? 'input' : 'result';
  const { status, selected } = useNodeState(id);
  return (
    <div className={`flow-node io-node io-${type}${selected ? ' selected' : ''}${status ? ` st-${status.status}` : ''}`} data-testid={`node-${id}`}>
      {type === 'result' && <Handle type="target" position={Position.Top} id="in" style={hidden} isConnectable={false} />}
      <KindIcon kind={data.kind} size={26} />
      <div className="node-title">{data.title}</div>
      <StatusLine status={status} />
      {type === 'input' && <Handle type="source" position={Position.Bottom} id="out" style={hidden} isConnectable={false} />}
    </div>
  );
});

export const AddFailureNode = memo(function AddFailureNode() {
  const store = useContext(GraphStoreContext);
  return (
    <button
      type="button"
      className="add-failure-node nodrag"
      onClick={(e) => {
        e.stopPropagation();
        store.handlers.onAddFailure?.();
      }}
    >
      <Icon name="plus" size={14} /> Error handler
    </button>
  );
});

export const nodeTypes = {
  step: StepNode,
  container: ContainerNode,
  branchLabel: BranchLabelNode,
  empty: EmptyNode,
  ioInput: IONode,
  ioResult: IONode,
  addFailure: AddFailureNode,
};
