/**
 * A store with real runs for the server's tests: the bundled Binance recording (real traffic,
 * datasets/samples/binance, see its PROVENANCE) replayed with the market maker (a backtest), and the
 * same recording paper-traded through the live WebSocket adapter (so slippage has a pair).
 */
import path from 'node:path';
import { readConfigFile, resolveRunConfig } from '../../src/runtime/config.js';
import { runKernel, type RunSummary } from '../../src/runtime/engine.js';
import { openPaperSource, openReplaySource, resolveSource, surveySource } from '../../src/runtime/sources.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { repoRoot } from '../helpers/tmp.js';

export const SAMPLE = path.join(repoRoot, 'datasets/samples/binance/BINANCE.ws.1.0');

export async function writeDemoRuns(dir: string, options: { paper?: boolean } = {}): Promise<{ backtest: RunSummary; paper: RunSummary | null }> {
  const source = resolveSource(SAMPLE);
  const config = resolveRunConfig('market-maker', readConfigFile(undefined), await surveySource(await openReplaySource(source)));
  const store = await EmbeddedEventStore.open(dir, { durability: 'batched' });
  try {
    const label = 'datasets/samples/binance/BINANCE.ws.1.0';
    const backtest = await runKernel({ mode: 'replay', store, config, sourceLabel: label, events: await openReplaySource(source) });
    let paper: RunSummary | null = null;
    if (options.paper !== false) {
      const feed = await openPaperSource(source, 0);
      try {
        paper = await runKernel({ mode: 'paper', store, config, sourceLabel: label, events: feed.events });
      } finally {
        await feed.close();
      }
    }
    return { backtest, paper };
  } finally {
    await store.close();
  }
}
