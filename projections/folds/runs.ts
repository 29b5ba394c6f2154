/**
 * The `runs` read model: a run's manifest, its end (or abandonment), from the run lifecycle events. A run
 * that references its inputs (InputsReferenced) holds none in its stream; its `inputs` is RunEnded's count.
 */
import { bigOf, obj, optInt, optStr, runFor, str, type Fold, type FoldInput, type RunState } from './state.js';

function onRunStarted(run: RunState, { ev, data, eventTime }: FoldInput): void {
  const m = obj(data.manifest, 'data.manifest');
  const r = run.row;
  r.mode = str(m, 'mode');
  r.strategy = str(m, 'strategy');
  r.codeHash = optStr(m, 'codeHash');
  r.configHash = optStr(m, 'configHash');
  r.seed = optInt(m, 'seed');
  r.source = optStr(m, 'source');
  const range = m.dataRange === undefined || m.dataRange === null ? {} : obj(m.dataRange, 'data.manifest.dataRange');
  r.dataFrom = range.fromNs === undefined || range.fromNs === null ? null : bigOf(range.fromNs, 'dataRange.fromNs');
  r.dataTo = range.toNs === undefined || range.toNs === null ? null : bigOf(range.toNs, 'dataRange.toNs');
  r.config = m.config === undefined ? null : JSON.stringify(m.config);
  r.startedPosition = ev.position;
  r.startedTime = eventTime;
}

export const runsFold: Fold = {
  name: 'runs',
  types: ['RunStarted', 'RunEnded', 'RunAbandoned', 'InputsReferenced'],
  fold(ctx, input) {
    const { ev, data, eventTime } = input;
    const run = runFor(ctx, input);
    if (ev.type === 'RunStarted') {
      onRunStarted(run, input);
      return;
    }
    if (ev.type === 'InputsReferenced') {
      run.inputsReferenced = true;
      return;
    }
    if (ev.type === 'RunEnded') {
      const r = run.row;
      r.endedPosition = ev.position;
      r.endedTime = eventTime;
      r.outcome = str(data, 'outcome');
      r.reason = optStr(data, 'reason');
      r.reportedEvents = optInt(data, 'events');
      r.reportedDecisions = optInt(data, 'decisions');
      // Referenced inputs are not in the stream to count: the run's own count stands for them.
      if (run.inputsReferenced === true && r.reportedEvents !== null) r.inputs = r.reportedEvents;
      r.decisionsHash = optStr(data, 'decisionsHash');
      run.ended = true;
      return;
    }
    // RunAbandoned: its owner died without RunEnded; the run stays open (a resumable run may still end normally).
    run.row.outcome = 'abandoned';
    run.row.reason = optStr(data, 'reason');
  },
};
