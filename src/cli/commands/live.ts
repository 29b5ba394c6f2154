/**
 * `tapedeck sim-venue | live | reconcile`: trading on a crypto exchange through ccxt, the simulated Binance
 * to test it against, and the reconciliation of the log with the venue's own reports.
 */
import type { Command } from 'commander';
import { TapedeckError } from '../../../domain/core/errors.js';
import { action, intOption, printJson } from '../run.js';

function positiveNumber(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new TapedeckError('USAGE', `${name} must be a number > 0, got "${text}"`, { field: name });
    return n;
  };
}

/** Runs until SIGTERM or SIGINT; resolves after `stop` ran. */
function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const on = (): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      void stop().then(resolve, resolve);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

export function register(program: Command): void {
  program
    .command('sim-venue')
    .description('a simulated exchange on 127.0.0.1 speaking the venue\'s REST and WebSocket API, matching against a recorded capture')
    .argument('<venue>', 'binance')
    .requiredOption('--capture <file>', 'recorded Binance capture (cryptofeed format) that drives the book')
    .option('--port <n>', 'port (0 = any free port)', intOption('--port', 0), 0)
    .option('--speed <x>', 'capture time per wall time (1 = recorded speed)', positiveNumber('--speed'), 1)
    .option('--loop', 'play the capture again (shifted times and ids) when it ends', false)
    .option('--faults <spec>', 'faults to inject: name:probability[:ms],... (lose-ack, delay-ack, dup-exec, 429, 5xx, drop, restart)')
    .option('--rules <json>', 'per-symbol instrument rules, e.g. {"NKNUSDT":{"tickSize":"0.0001","stepSize":"1","minNotional":"5"}}')
    .action(
      action(async (venue: string, o: { capture: string; port: number; speed: number; loop: boolean; faults?: string; rules?: string }) => {
        if (venue.toLowerCase() !== 'binance') throw new TapedeckError('USAGE', `sim-venue: only "binance" is simulated, got "${venue}"`, { field: 'venue' });
        const apiKey = process.env.BINANCE_API_KEY;
        const apiSecret = process.env.BINANCE_API_SECRET;
        if (!apiKey || !apiSecret) throw new TapedeckError('CREDENTIALS', 'sim-venue binance needs BINANCE_API_KEY and BINANCE_API_SECRET in the environment (the account it accepts)', { field: 'env' });
        let rules: Record<string, Record<string, string>> | undefined;
        if (o.rules !== undefined) {
          try {
            rules = JSON.parse(o.rules) as Record<string, Record<string, string>>;
          } catch {
            throw new TapedeckError('USAGE', '--rules is not valid JSON', { field: '--rules' });
          }
        }
        const { SimBinance } = await import('../../venues/binance/sim.js');
        const sim = await SimBinance.start({ capture: o.capture, port: o.port, speed: o.speed, loop: o.loop, ...(o.faults !== undefined ? { faults: o.faults } : {}), apiKey, apiSecret, ...(rules ? { rules } : {}) });
        printJson(sim.urls);
        await untilSignal(() => sim.close());
      }),
    );
}
