/**
 * The benchmark lab's public surface (docs/benchmarks.md), for `npm run bench`
 * and anyone else who wants to run it from code.
 */
export type { Contender, ContenderKind, Tunnel, TunnelPlan, TunnelProcess } from './contender.js';
export { CONTENDERS } from './contenders/index.js';
export { type LabOptions, LabRefusedError, type LabResult, LabSetupError, runLab } from './lab.js';
export { METRICS, type Metric } from './measure.js';
export { renderMarkdown } from './report.js';
export { main as runLabCommand, parseLabArgs, USAGE as LAB_USAGE } from './run.js';
