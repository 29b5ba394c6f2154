/**
 * `tapedeck audit ORDER_ID`, `tapedeck rebuild`, `tapedeck slippage`: questions answered from the log.
 */
import type { Command } from 'commander';
import { openStore } from '../../store/open.js';
import { damagedRanges, describeDamage } from '../../store/damage.js';
import { action, intOption, partialAnswer, printJson } from '../run.js';

// Analytics modules load only when their command runs, so the rest of the CLI starts fast.
const audit = () => import('../../../projections/audit.js');
const rebuilder = () => import('../../../projections/rebuild.js');
const slip = () => import('../../../replay/slippage.js');

type RunView = Awaited<ReturnType<Awaited<ReturnType<typeof rebuilder>>['rebuild']>>['runs'][number];

function printRuns(runs: RunView[]): void {
  for (const run of runs) {
    process.stdout.write(`run ${run.runId} ${run.mode ?? ''} ${run.strategy ?? ''} ${run.ended ? `(${run.outcome})` : '(running or stopped)'} last event #${run.lastPosition}\n`);
    for (const p of run.positions) process.stdout.write(`  position ${p.instrument} ${p.quantity} avg ${p.avgPrice ?? '-'} realized ${p.realizedPnl} ${p.quoteCurrency}\n`);
    for (const x of run.openOrders) process.stdout.write(`  open ${x.orderId} ${x.side} ${x.leavesQuantity}/${x.quantity} ${x.instrument} @ ${x.price ?? 'market'} ${x.state}\n`);
    for (const b of run.balances) process.stdout.write(`  balance ${b.venue} ${b.currency} ${b.total}\n`);
  }
}

export function register(program: Command): void {
  program
    .command('audit')
    .description("one order's causal chain: the input that caused it, strategy and hashes, risk, submission, venue messages, fills, position before and after")
    .argument('<orderId>', 'the order id (OrderIntended.orderId)')
    .requiredOption('--store <dir>', 'the event store directory')
    .option('--run <runId>', 'the run, when the order id exists in several')
    .option('--catalog <dir>', 'where the datasets a run references are now (default: where the run read them)')
    .option('--json', 'one JSON document', false)
    .action(
      action(async (orderId: string, o: { store: string; run?: string; catalog?: string; json: boolean }) => {
        const r = await (await audit()).auditOrder(o.store, orderId, { ...(o.run !== undefined ? { runId: o.run } : {}), ...(o.catalog !== undefined ? { catalog: o.catalog } : {}) });
        if (o.json) printJson(r);
        else process.stdout.write((await audit()).formatAudit(r));
        if (r.unreadable?.length) throw partialAnswer(describeDamage(r.unreadable));
      }),
    );

  program
    .command('rebuild')
    .description('positions, open orders and balances of every run, rebuilt from the log alone (from zero)')
    .requiredOption('--store <dir>', 'the event store directory')
    .option('--at <position>', 'fold the log up to this position (inclusive; default: the head)', intOption('--at', 0))
    .option('--run <runId>', 'only this run')
    .option('--json', 'one JSON document', false)
    .action(
      action(async (o: { store: string; at?: number; run?: string; json: boolean }) => {
        const r = await (await rebuilder()).rebuild(o.store, { ...(o.at !== undefined ? { at: o.at } : {}), ...(o.run !== undefined ? { runId: o.run } : {}) });
        if (o.json) printJson(r);
        else process.stdout.write(`log folded to position ${r.at} (head ${r.head}), ${r.events} events${r.complete ? '' : `, INCOMPLETE: ${r.unreadable.length} unreadable range(s)`}\n`);
        if (!o.json) printRuns(r.runs);
        if (!r.complete) throw partialAnswer(describeDamage(r.unreadable));
      }),
    );

  program
    .command('slippage')
    .description('pair each live order with the backtest decision on the same input; decision, arrival and fill prices; bps distribution')
    .requiredOption('--store <dir>', 'the event store directory')
    .requiredOption('--live <runId>', 'the live (or paper) run')
    .requiredOption('--backtest <runId>', 'the backtest (replay) run')
    .option('--catalog <dir>', 'where the datasets a run references are now (default: where the run read them)')
    .option('--json', 'one JSON document', false)
    .action(
      action(async (o: { store: string; live: string; backtest: string; catalog?: string; json: boolean }) => {
        const store = await openStore(o.store, { readOnly: true, create: false });
        try {
          const r = await (await slip()).slippage(store, o.live, o.backtest, o.catalog !== undefined ? { catalog: o.catalog } : {});
          if (o.json) printJson(r);
          else {
            process.stdout.write(`live ${r.liveRun}: ${r.liveOrders} orders, backtest ${r.backtestRun}: ${r.backtestOrders}; paired ${r.paired}, unpaired live ${r.unpairedLive}, unpaired backtest ${r.unpairedBacktest}\n`);
            if (r.distribution.length === 0) {
              process.stdout.write('no paired order was filled in both runs, so there is no slippage to compare (see --json for each order)\n');
            } else {
              process.stdout.write('venue  instrument  side  size  count  mean  p50  p90  worst (bps, positive = live worse)\n');
              for (const d of r.distribution) {
                process.stdout.write(`${d.venue}  ${d.instrument}  ${d.side}  ${d.sizeBucket}  ${d.count}  ${d.meanBps}  ${d.p50Bps}  ${d.p90Bps}  ${d.worstBps}\n`);
              }
            }
          }
          const damaged = damagedRanges(store);
          if (damaged.length > 0) throw partialAnswer(describeDamage(damaged));
        } finally {
          await store.close();
        }
      }),
    );
}
