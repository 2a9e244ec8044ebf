export { FlowGraph, KIND_MIME, moduleIdsInOrder, type FlowGraphProps } from './FlowGraph';
export { buildGraph, nearestSpot, INPUT_ID, RESULT_ID, type GraphModel, type GNode, type GEdge, type InsertSpot } from './layout';
export { KindIcon, Icon } from './icons';
export { formatDuration, type NodeStatusInfo, type StepStatus } from './store';
